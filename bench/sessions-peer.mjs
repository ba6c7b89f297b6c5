// A lean client side of the data channel for bench/sessions.mjs, built on @airlock/protocol's data
// module as the testkit's DataPeer is, but keeping no frames: it hands each Data payload to a
// callback (so 256 MB of output costs no memory) and acknowledges as the CLI does (at once past
// 64 KiB handed on, else a lone Ack after 10 ms unless a frame carries it), or never (autoAck
// false: a client that stops reading).
import { clearTimeout, setTimeout } from 'node:timers';
import { data, streams } from '@airlock/protocol';
import WebSocket from 'ws';

export class BenchPeer {
  constructor({ autoAck = true } = {}) {
    this.link = new data.Link();
    this.autoAck = autoAck;
    this.bytes = 0;
    this.exit = undefined;
    this.ended = false;
    /** Called with each Data payload of stream 0 (a Uint8Array). */
    this.onData = undefined;
    this.waiters = new Set();
    this.ackTimer = new streams.AckTimer(this.link, () => this.sendAck());
  }

  sendAck() {
    const ack = this.link.ackIfDue();
    if (ack !== undefined && this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(ack));
  }

  /** Dials the StreamUrl, presents the token; resolves at Ready. */
  connect(url, token, ms = 15_000) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      this.socket = socket;
      const timer = setTimeout(() => {
        reject(new Error(`no Ready within ${ms} ms`));
        socket.terminate();
      }, ms);
      socket.on('open', () => {
        const auth = { role: 'client', token, lastReceived: 0, version: data.DATA_PROTOCOL_VERSION };
        socket.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
      });
      socket.on('message', (message) => {
        let taken = false;
        for (const frame of data.decodeFrames(new Uint8Array(message))) {
          if (frame.type === data.FrameType.Ready) {
            clearTimeout(timer);
            resolve();
            continue;
          }
          if (this.link.take(frame) !== 'new') continue;
          taken = true;
          if (frame.type === data.FrameType.Data && frame.stream === 0) {
            this.bytes += frame.payload.length;
            this.onData?.(frame.payload);
          } else if (frame.type === data.FrameType.Exit) this.exit = data.readExit(frame.payload);
          else if (frame.type === data.FrameType.End) this.ended = true;
        }
        if (taken && this.autoAck) {
          this.link.consume(this.link.received);
          if (this.link.ackUrgent) this.sendAck();
          else this.ackTimer.arm();
        }
        this.wake();
      });
      socket.on('close', (code, reason) => {
        clearTimeout(timer);
        this.closed = { code, reason: reason.toString('utf8') };
        reject(new Error(`closed before Ready: ${code} ${reason.toString('utf8')}`));
        this.wake();
      });
      socket.on('error', () => undefined);
    });
  }

  send(bytes) {
    const frame = this.link.send({ type: data.FrameType.Data, stream: 0, payload: bytes });
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(frame));
  }

  /** Resolves when check() holds, re-checked at each arrival; rejects after ms. */
  waitFor(check, what, ms = 30_000) {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  close() {
    this.ackTimer.cancel();
    this.socket?.close();
  }

  terminate() {
    this.ackTimer.cancel();
    this.socket?.terminate();
  }
}
