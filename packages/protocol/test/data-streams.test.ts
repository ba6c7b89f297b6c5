/**
 * The stream rules both ends follow: splitting into frames, per-stream credit (a sender stops at
 * 0 and resumes on Window; a receiver returns credit once written), the states and the
 * Open/Close(Fin|Reset) rules, with the violations they reset.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { data, streams } from '@airlock/protocol';

const { FrameType, FrameFlag, STREAM_WINDOW, MAX_PAYLOAD } = data;

/** Carries Outgoing frames from one end to the other as numbered frames, through a Link each. */
function wire(): { send(out: data.Outgoing[]): data.Frame[]; link: data.Link } {
  const link = new data.Link(Number.MAX_SAFE_INTEGER);
  return { link, send: (out) => out.map((frame) => link.send(frame)) };
}

/** The one frame of a list. */
function one<T>(frames: readonly T[]): T {
  assert.equal(frames.length, 1, `one frame, not ${frames.length}`);
  const [frame] = frames;
  if (frame === undefined) throw new Error('no frame');
  return frame;
}

/** The incoming event, which must be of `kind`. */
function expect<K extends streams.Incoming['kind']>(incoming: streams.Incoming, kind: K): Extract<streams.Incoming, { kind: K }> {
  if (incoming.kind !== kind) assert.fail(`expected ${kind}, got ${JSON.stringify(incoming)}`);
  return incoming as Extract<streams.Incoming, { kind: K }>;
}

function live(table: streams.StreamTable, id: number): streams.Stream {
  const stream = table.get(id);
  if (stream === undefined) throw new Error(`no stream ${id}`);
  return stream;
}

const total = (frames: readonly { payload?: Uint8Array }[]): number => frames.reduce((sum, frame) => sum + (frame.payload?.length ?? 0), 0);

describe('splitting', () => {
  test('cuts a chunk into frames of at most MAX_PAYLOAD, without copying, and nothing for nothing', () => {
    const bytes = new Uint8Array(MAX_PAYLOAD * 2 + 5).map((_, i) => i % 251);
    const pieces = streams.split(bytes);
    assert.deepEqual(
      pieces.map((piece) => piece.length),
      [MAX_PAYLOAD, MAX_PAYLOAD, 5],
    );
    assert.equal(pieces[0]?.buffer, bytes.buffer);
    assert.deepEqual(Uint8Array.from(pieces.flatMap((piece) => [...piece])), bytes);
    assert.deepEqual(streams.split(new Uint8Array(0)), []);
    assert.deepEqual(streams.split(data.utf8('abc'), 2).map(data.fromUtf8), ['ab', 'c']);
    const frames = streams.dataFrames(0, bytes);
    assert.equal(frames.length, 3);
    assert.ok(frames.every((frame) => frame.type === FrameType.Data && frame.stream === 0));
  });
});

describe('messages', () => {
  test('pack: frames in order, at most MAX_MESSAGE bytes a message, never a frame cut', () => {
    const link = new data.Link(Number.MAX_SAFE_INTEGER);
    const frames = [1, MAX_PAYLOAD, MAX_PAYLOAD, 10, MAX_PAYLOAD, MAX_PAYLOAD, 0, 5].map((size) => link.send({ type: FrameType.Data, payload: new Uint8Array(size) }));
    const messages = streams.pack(frames);
    assert.ok(messages.every((message) => message.length <= streams.MAX_MESSAGE));
    assert.equal(messages.length, 2);
    assert.deepEqual(
      messages.flatMap((message) => data.decodeFrames(message).map((frame) => frame.seq)),
      frames.map((frame) => frame.seq),
    );
    assert.deepEqual(streams.pack([]), []);
    assert.equal(streams.pack(frames, 1).length, frames.length, 'a frame bigger than the limit still goes, alone');
  });
});

describe('relaying in place', () => {
  /** An agent's message of `sizes` Data frames, decoded by a relay that owns it: the frames and the message. */
  function arrived(sizes: readonly number[], owned: boolean): { frames: data.Frame[]; message: Uint8Array } {
    const agent = new data.Link(Number.MAX_SAFE_INTEGER);
    const sent = sizes.map((size, index) => agent.send({ type: FrameType.Data, stream: index % 2, payload: new Uint8Array(size).fill(65 + index) }));
    const [message] = streams.pack(sent);
    if (message === undefined) throw new Error('no message');
    return { frames: data.decodeFrames(message, { owned }), message };
  }
  /** Whether `out` is bytes of `message` itself (small buffers share Node's pool: the range says, not the buffer alone). */
  const within = (out: Uint8Array | undefined, message: Uint8Array): boolean => out !== undefined && out.buffer === message.buffer && out.byteOffset >= message.byteOffset && out.byteOffset + out.length <= message.byteOffset + message.length;
  /** The relay's hop towards the client, which has acknowledged nothing yet and been sent `before` frames. */
  function hop(before: number, consumed: number): data.Link {
    return data.Link.restore({ received: consumed, nextSeq: before + 1, unacked: [] });
  }

  test('frames passed on go from the memory they arrived in, under their own numbers and the relay ack', () => {
    const { frames, message } = arrived([MAX_PAYLOAD, 7, MAX_PAYLOAD], true);
    const link = hop(0, 42);
    const passed = frames.map((frame) => link.send({ type: frame.type, flags: frame.flags, stream: frame.stream, payload: frame.payload }));
    const messages = streams.pack(passed);
    assert.equal(messages.length, 1, 'neighbours go in one message');
    const [out] = messages;
    assert.ok(within(out, message), 'not copied');
    const decoded = data.decodeFrames(out ?? new Uint8Array(0));
    assert.deepEqual(
      decoded.map((frame) => [frame.seq, frame.ack, frame.stream, frame.payload.length, frame.payload[0]]),
      [
        [1, 42, 0, MAX_PAYLOAD, 65],
        [2, 42, 1, 7, 66],
        [3, 42, 0, MAX_PAYLOAD, 67],
      ],
    );
    // Sent again after a reconnect, with what the relay has taken care of since.
    for (let seq = 43; seq <= 50; seq++) link.take({ type: FrameType.Data, flags: 0, stream: 0, seq, ack: 0, payload: new Uint8Array(1) });
    link.consume(50);
    const again = streams.pack(link.resendAfter(1));
    assert.deepEqual(
      again.flatMap((bytes) => data.decodeFrames(bytes).map((frame) => [frame.seq, frame.ack, frame.payload[0]])),
      [
        [2, 50, 66],
        [3, 50, 67],
      ],
    );
  });

  test("the relay's own frames are copied, after its relayed ones; a message not owned is copied whole", () => {
    const { frames, message } = arrived([3, 4], true);
    const link = hop(0, 0);
    const passed = frames.map((frame) => link.send({ type: frame.type, flags: frame.flags, stream: frame.stream, payload: frame.payload }));
    passed.push(link.send({ type: FrameType.End, payload: data.utf8('bye') }));
    const messages = streams.pack(passed);
    assert.deepEqual(
      messages.map((bytes) => within(bytes, message)),
      [true, false],
    );
    assert.deepEqual(
      messages.flatMap((bytes) => data.decodeFrames(bytes).map((frame) => [frame.seq, frame.type])),
      [
        [1, FrameType.Data],
        [2, FrameType.Data],
        [3, FrameType.End],
      ],
    );
    const borrowed = arrived([3], false);
    const [copied] = streams.pack(borrowed.frames.map((frame) => hop(0, 0).send(frame)));
    assert.ok(!within(copied, borrowed.message));
  });

  test('a frame numbered otherwise on the way out is encoded afresh, leaving the arrived bytes alone', () => {
    const { frames, message } = arrived([5], true);
    const before = Uint8Array.from(message);
    const [frame] = frames;
    if (frame === undefined) throw new Error('a frame');
    const [out] = streams.pack([hop(9, 3).send(frame)]);
    assert.ok(!within(out, message));
    assert.deepEqual(Uint8Array.from(message), before);
    assert.deepEqual(
      data.decodeFrames(out ?? new Uint8Array(0)).map((decoded) => [decoded.seq, decoded.ack]),
      [[10, 3]],
    );
  });
});

describe('streams', () => {
  test('open, accept, data both ways, half-close each way, closed and forgotten', () => {
    const client = new streams.StreamTable('opener');
    const agent = new streams.StreamTable('acceptor');
    const up = wire();
    const down = wire();

    const { stream: c1, frames } = client.open();
    assert.equal(c1.id, 1);
    assert.equal(c1.state, 'opening');
    const a1 = expect(agent.receive(one(up.send(frames))), 'open').stream;
    assert.equal(a1.canSend, false, 'the acceptor sends nothing before its Ok');
    assert.throws(() => a1.write(data.utf8('x')), /takes no more data/);

    const ok = one(down.send(a1.accept()));
    assert.equal(ok.flags, FrameFlag.Ok);
    expect(client.receive(ok), 'accepted');
    assert.equal(c1.state, 'open');

    const got = expect(agent.receive(one(up.send(c1.write(data.utf8('hello'))))), 'data');
    assert.equal(data.fromUtf8(got.bytes), 'hello');

    // The client is done sending (shutdown(SHUT_WR)); the agent still answers.
    const fin = one(up.send(c1.fin()));
    assert.equal(c1.state, 'half-closed-local');
    expect(agent.receive(fin), 'fin');
    assert.equal(a1.state, 'half-closed-remote');
    assert.equal(a1.canReceive, false);
    const answered = expect(client.receive(one(down.send(a1.write(data.utf8('bye'))))), 'data');
    assert.equal(data.fromUtf8(answered.bytes), 'bye');
    const fin2 = one(down.send(a1.fin()));
    assert.equal(a1.state, 'closed');
    expect(client.receive(fin2), 'fin');
    assert.equal(c1.state, 'closed');
    assert.equal(client.size, 0);
    assert.equal(agent.size, 0);
  });

  test('the opener may send data and even its Fin before the Ok; the acceptor keeps them', () => {
    const agent = new streams.StreamTable('acceptor');
    const client = new streams.StreamTable('opener');
    const up = wire();
    const { stream, frames } = client.open();
    const sent = up.send([...frames, ...stream.write(data.utf8('GET / HTTP/1.0\r\n\r\n')), ...stream.fin()]);
    const kinds = sent.map((frame) => agent.receive(frame).kind);
    assert.deepEqual(kinds, ['open', 'data', 'fin']);
    const a1 = live(agent, 1);
    assert.equal(a1.state, 'opening');
    a1.accept();
    assert.equal(a1.state, 'half-closed-remote');
    assert.equal(a1.canSend, true);
  });

  test('credit: the sender stops at the window, keeps the rest, and sends it (then its Fin) as Window frames come back', () => {
    const sender = new streams.Stream(3, true);
    sender.peerAccepted();
    const first = sender.write(new Uint8Array(STREAM_WINDOW - 10));
    assert.equal(total(first), STREAM_WINDOW - 10);
    assert.equal(sender.paused, false);
    const second = sender.write(new Uint8Array(100));
    assert.equal(total(second), 10, 'only the credit left goes out');
    assert.equal(sender.paused, true);
    assert.equal(sender.buffered, 90);
    assert.deepEqual(sender.fin(), [], 'the Fin waits behind the bytes');
    const more = sender.peerWindow(50);
    assert.equal(total(more), 50);
    assert.equal(sender.paused, true);
    const rest = sender.peerWindow(1000);
    assert.deepEqual(
      rest.map((frame) => [frame.type, frame.payload?.length ?? 0]),
      [
        [FrameType.Data, 40],
        [FrameType.Close, 0],
      ],
    );
    assert.equal(sender.paused, false);
    assert.equal(sender.credit, 960);
    assert.equal(sender.state, 'half-closed-local');
  });

  test('credit: the receiver returns it in batches once written, and never lets the sender stall', () => {
    const client = new streams.StreamTable('opener');
    const agent = new streams.StreamTable('acceptor');
    const up = wire();
    const down = wire();
    const { stream: c1, frames } = client.open();
    up.send(frames).forEach((frame) => agent.receive(frame));
    const a1 = live(agent, 1);
    down.send(a1.accept()).forEach((frame) => client.receive(frame));

    // The client pushes 5 windows' worth through; the agent writes what it gets and returns
    // credit; frames travel in order through one queue each way.
    const source = new Uint8Array(STREAM_WINDOW * 5 + 123).map((_, i) => i & 0xff);
    let offset = 0;
    const received: number[] = [];
    const inFlight: data.Frame[] = [];
    let rounds = 0;
    while (received.length < source.length) {
      assert.ok(rounds++ < 1000, 'no progress: a stall');
      while (!c1.paused && offset < source.length) {
        const chunk = source.subarray(offset, offset + 100_000);
        offset += chunk.length;
        inFlight.push(...up.send(c1.write(chunk)));
      }
      for (let frame = inFlight.shift(); frame !== undefined; frame = inFlight.shift()) {
        const incoming = expect(agent.receive(frame), 'data');
        assert.ok(incoming.bytes.length <= MAX_PAYLOAD);
        received.push(...incoming.bytes);
        for (const window of down.send(a1.written(incoming.bytes.length))) {
          inFlight.push(...up.send(expect(client.receive(window), 'window').frames));
        }
      }
    }
    assert.deepEqual(Uint8Array.from(received), source);
  });

  test('Reset from either side ends the stream at once; late frames for it are ignored', () => {
    const agent = new streams.StreamTable('acceptor');
    const client = new streams.StreamTable('opener');
    const up = wire();
    const down = wire();
    const { stream, frames } = client.open();
    up.send(frames).forEach((frame) => agent.receive(frame));
    const a1 = live(agent, 1);
    // The agent could not connect.
    const refused = one(down.send(a1.reset('connect ECONNREFUSED 127.0.0.1:9')));
    assert.equal(refused.flags, FrameFlag.Reset);
    assert.equal(agent.size, 0);
    // Meanwhile the client had sent data (pipelined): the agent ignores it.
    const late = one(up.send(stream.write(data.utf8('too late'))));
    assert.deepEqual(agent.receive(late), { kind: 'ignored' });
    assert.equal(expect(client.receive(refused), 'reset').reason, 'connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(stream.closed, true);
    assert.equal(client.size, 0);
    assert.deepEqual(stream.reset('again'), [], 'a closed stream sends nothing more');
  });

  test('violations reset the stream, saying why, and leave the others alone', () => {
    const agent = new streams.StreamTable('acceptor', 10);
    const client = new streams.StreamTable('opener', 10);
    const up = wire();
    const open = (): void => {
      const { frames } = client.open();
      up.send(frames).forEach((frame) => agent.receive(frame));
    };
    open();
    open();
    live(agent, 1).accept();
    live(agent, 2).accept();
    const frame = (type: data.FrameType, stream: number, payload: Uint8Array = new Uint8Array(0), flags = 0): data.Frame => ({ type, flags, stream, seq: 1, ack: 0, payload });

    const over = expect(agent.receive(frame(FrameType.Data, 1, new Uint8Array(11))), 'violation');
    assert.match(over.reason, /11 bytes with 10 of credit/);
    assert.equal(one(over.frames).flags, FrameFlag.Reset);
    assert.equal(agent.get(1), undefined);
    assert.equal(agent.get(2)?.state, 'open', 'the other stream goes on');

    assert.equal(agent.receive(frame(FrameType.Close, 2, new Uint8Array(0), FrameFlag.Fin)).kind, 'fin');
    assert.match(JSON.stringify(agent.receive(frame(FrameType.Data, 2, new Uint8Array(1)))), /after its end/);

    assert.match(JSON.stringify(agent.receive(frame(FrameType.Data, 7))), /never opened/);
    assert.match(JSON.stringify(agent.receive(frame(FrameType.Open, 2))), /out of order/);
    assert.match(JSON.stringify(agent.receive(frame(FrameType.Window, 9, data.windowPayload(5)))), /never opened/);
    assert.throws(() => agent.receive(frame(FrameType.Data, 0)), /stream 0 is the terminal/);
    assert.throws(() => new streams.Stream(0, true), /stream ids go from 1/);
    assert.throws(() => agent.open(), /only the opener/);
  });
});
