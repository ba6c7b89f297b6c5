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
