/**
 * The data channel's frames, pinned by golden vectors (the same hex is drawn in
 * docs/protocol.md: any side that decodes these decodes the wire), and the Link's promises:
 * each frame taken once and in order, kept until acknowledged, resent after a reconnect, and the
 * window that stops a sender.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { data } from '@airlock/protocol';

const { FrameType, FrameFlag } = data;

/** Golden vectors: a frame and its exact bytes. */
const VECTORS: { name: string; frame: data.Frame; hex: string }[] = [
  {
    name: 'Data on the terminal: "ls\\r", seq 1, acknowledging 7',
    frame: { type: FrameType.Data, flags: 0, stream: 0, seq: 1, ack: 7, payload: data.utf8('ls\r') },
    hex: '03 00 00000000 00000001 00000007 00000003 6c730d',
  },
  {
    name: 'Resize to 120×40',
    frame: { type: FrameType.Resize, flags: 0, stream: 0, seq: 2, ack: 0, payload: data.resizePayload(120, 40) },
    hex: '04 00 00000000 00000002 00000000 00000004 0078 0028',
  },
  {
    name: 'Close stream 5 with Fin (half-close)',
    frame: { type: FrameType.Close, flags: FrameFlag.Fin, stream: 5, seq: 9, ack: 3, payload: new Uint8Array() },
    hex: '06 01 00000005 00000009 00000003 00000000',
  },
  {
    name: 'Exit status 130',
    frame: { type: FrameType.Exit, flags: 0, stream: 0, seq: 300, ack: 12, payload: data.exitPayload(130, '') },
    hex: '08 00 00000000 0000012c 0000000c 00000004 00000082',
  },
  {
    name: 'Ack of 65536, unnumbered',
    frame: { type: FrameType.Ack, flags: 0, stream: 0, seq: 0, ack: 65_536, payload: new Uint8Array() },
    hex: '0a 00 00000000 00000000 00010000 00000000',
  },
  {
    name: 'Window: 262144 more bytes for stream 3',
    frame: { type: FrameType.Window, flags: 0, stream: 3, seq: 4, ack: 0, payload: data.windowPayload(262_144) },
    hex: '07 00 00000003 00000004 00000000 00000004 00040000',
  },
  {
    name: 'Mode: echo off, canonical (a password prompt), seq 5, acknowledging 2',
    frame: { type: FrameType.Mode, flags: 0, stream: 0, seq: 5, ack: 2, payload: data.modePayload({ echo: false, canonical: true }) },
    hex: '0b 00 00000000 00000005 00000002 00000001 02',
  },
];

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));

describe('frames', () => {
  for (const vector of VECTORS) {
    test(`golden: ${vector.name}`, () => {
      assert.deepEqual(data.encodeFrame(vector.frame), bytes(vector.hex));
      const [decoded] = data.decodeFrames(bytes(vector.hex));
      assert.deepEqual({ ...decoded, payload: [...(decoded?.payload ?? [])] }, { ...vector.frame, payload: [...vector.frame.payload] });
    });
  }

  test('one message carries several frames, decoded in order', () => {
    const frames = VECTORS.map((vector) => vector.frame);
    const decoded = data.decodeFrames(data.encodeFrames(frames));
    assert.deepEqual(
      decoded.map((frame) => [frame.type, frame.seq]),
      frames.map((frame) => [frame.type, frame.seq]),
    );
  });

  test('payloads read back: resize, exit with a reason, window', () => {
    assert.deepEqual(data.readResize(data.resizePayload(80, 24)), { cols: 80, rows: 24 });
    assert.deepEqual(data.readExit(data.exitPayload(-1, 'killed by signal 9')), { status: -1, reason: 'killed by signal 9' });
    assert.equal(data.readWindow(data.windowPayload(1_048_576)), 1_048_576);
    assert.throws(() => data.readResize(data.resizePayload(0, 24)), /no room/);
  });

  test('Mode payloads read back, and only a password prompt hides input', () => {
    for (const echo of [false, true]) {
      for (const canonical of [false, true]) assert.deepEqual(data.readMode(data.modePayload({ echo, canonical })), { echo, canonical });
    }
    assert.equal(data.hidesInput({ echo: false, canonical: true }), true, 'sudo, read -s: echo off, whole lines');
    assert.equal(data.hidesInput({ echo: false, canonical: false }), false, 'readline, vim: they show what they take themselves');
    assert.equal(data.hidesInput({ echo: true, canonical: true }), false);
    assert.throws(() => data.readMode(new Uint8Array(2)), /carries 1 byte, not 2/);
    assert.throws(() => data.readMode(Uint8Array.of(0x80)), /unknown bits: 0x80/);
    assert.deepEqual(data.modeOf(data.ModeBit.Canonical), { echo: false, canonical: true }, 'the bits as the agent reads them: a password prompt');
    assert.throws(() => data.modeOf(4), /unknown bits: 0x04/);
  });

  test('broken messages are refused, saying what is wrong', () => {
    assert.throws(() => data.decodeFrames(bytes('03 00 00000000')), /header is 18 bytes/);
    assert.throws(() => data.decodeFrames(bytes('ff 00 00000000 00000001 00000000 00000000')), /unknown frame type 0xff/);
    assert.throws(() => data.decodeFrames(bytes('03 00 00000000 00000001 00000000 00000005 6162')), /says 5 payload bytes/);
    assert.throws(() => data.decodeFrames(bytes('03 00 00000000 00000001 00000000 00100000')), /at most 65536/);
    assert.throws(() => data.encodeFrame({ type: FrameType.Data, flags: 0, stream: 0, seq: 1, ack: 0, payload: new Uint8Array(data.MAX_PAYLOAD + 1) }), /at most/);
  });

  test('Auth and Ready payloads are checked field by field', () => {
    const client: data.AuthMessage = { role: 'client', token: 'alt_x', lastReceived: 4, version: 1 };
    assert.deepEqual(data.readAuth(data.jsonPayload(client)), client);
    assert.equal(data.readAuth(data.utf8('{"role":"client","token":"","lastReceived":0,"version":1}')), undefined);
    assert.equal(data.readAuth(data.utf8('{"role":"agent","sessionId":"a-1","lastReceived":0,"version":1}')), undefined);
    assert.equal(data.readAuth(data.utf8('not json')), undefined);
    assert.deepEqual(data.readReady(data.jsonPayload({ sessionId: 's-1', lastReceived: 9 })), { sessionId: 's-1', lastReceived: 9 });
    assert.equal(data.readReady(data.utf8('{"sessionId":"s-1","lastReceived":-1}')), undefined);
  });
});

describe('Link', () => {
  const text = (link: data.Link, value: string): data.Frame => link.send({ type: FrameType.Data, payload: data.utf8(value) });

  test('numbers frames from 1, takes each once and in order, and refuses a gap', () => {
    const sender = new data.Link();
    const receiver = new data.Link();
    const [a, b, c] = [text(sender, 'a'), text(sender, 'b'), text(sender, 'c')];
    assert.deepEqual([a.seq, b.seq, c.seq], [1, 2, 3]);
    assert.equal(receiver.take(a), 'new');
    assert.equal(receiver.take(a), 'duplicate');
    assert.throws(() => receiver.take(c), /frame 3 arrived after 1/);
    assert.equal(receiver.take(b), 'new');
    assert.equal(receiver.received, 2);
  });

  test('keeps frames until acknowledged, and resends exactly the unacknowledged ones after a reconnect', () => {
    const sender = new data.Link();
    const receiver = new data.Link();
    const frames = ['one', 'two', 'three', 'four'].map((value) => text(sender, value));
    for (const frame of frames.slice(0, 2)) receiver.take(frame);
    receiver.consume(2);
    const ack = receiver.ackIfDue();
    assert.equal(ack?.ack, 2);
    assert.equal(receiver.ackIfDue(), undefined, 'an ack goes once');
    sender.take(ack);
    assert.equal(sender.inFlight, 'threefour'.length);
    // The connection drops; the receiver says it took 2 frames.
    const resent = sender.resendAfter(receiver.received);
    assert.deepEqual(resent.map((frame) => data.fromUtf8(frame.payload)), ['three', 'four']);
    for (const frame of resent) assert.equal(receiver.take(frame), 'new');
    assert.equal(receiver.received, 4);
  });

  test('an acknowledgement rides on the next frame the receiver sends', () => {
    const left = new data.Link();
    const right = new data.Link();
    right.take(text(left, 'hello'));
    right.consume(1);
    const reply = text(right, 'hi');
    assert.equal(reply.ack, 1);
    assert.equal(right.ackIfDue(), undefined);
    left.take(reply);
    assert.equal(left.inFlight, 0);
  });

  test('is full at the window, and has room again once acknowledged', () => {
    const sender = new data.Link(10);
    text(sender, '12345');
    assert.equal(sender.full, false);
    text(sender, '67890');
    assert.equal(sender.full, true);
    sender.take({ type: FrameType.Ack, flags: 0, stream: 0, seq: 0, ack: 1, payload: new Uint8Array() });
    assert.equal(sender.full, false);
  });

  test('refuses an acknowledgement of frames never sent, and consuming frames never taken', () => {
    const link = new data.Link();
    assert.throws(() => link.take({ type: FrameType.Ack, flags: 0, stream: 0, seq: 0, ack: 1, payload: new Uint8Array() }), /never sent/);
    assert.throws(() => link.consume(1), /only 0 arrived/);
    assert.throws(() => link.take({ type: FrameType.Data, flags: 0, stream: 0, seq: 0, ack: 0, payload: new Uint8Array() }), /only Ack frames go unnumbered/);
  });
});

describe('maskingNeeded', () => {
  test('no mask over TLS or on the loopback, where no intermediary reads the bytes', () => {
    for (const url of ['wss://airlock.example.com/agent/data', 'WSS://10.0.0.5:8443/session/stream/s-1', 'ws://127.0.0.1:8080/agent/data', 'ws://127.5.6.7/x', 'ws://localhost:80/x', 'ws://[::1]:9000/x', 'ws://user@127.0.0.1/x']) {
      assert.equal(data.maskingNeeded(url), false, url);
    }
  });
  test('a mask in clear text over a network, and for anything unrecognised', () => {
    for (const url of ['ws://airlock.example.com/agent/data', 'ws://10.0.0.5:8080/x', 'ws://127.0.0.1.evil.example/x', 'ws://localhost.example/x', 'ws://[::2]/x', 'ws://127.0.0.1@evil.example/x', 'http://127.0.0.1/x', '']) {
      assert.equal(data.maskingNeeded(url), true, url);
    }
  });
});
