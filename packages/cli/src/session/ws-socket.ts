/**
 * Node's `ws` as a session socket, with what browsers cannot do: no Nagle delay on the TCP
 * socket, no compression, and WebSocket pings: a connection that answers none (nor sends
 * anything) for two intervals is dropped, and the session connection resumes it.
 */
import type { Dialer } from '@airlock/client/session';
import { data } from '@airlock/protocol';
import WebSocket, { type RawData } from 'ws';

const DEFAULT_PING_MS = 15_000;

function bytesOf(message: RawData): Uint8Array {
  const bytes = Array.isArray(message) ? Buffer.concat(message) : message instanceof ArrayBuffer ? new Uint8Array(message) : message;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function wsDialer(pingIntervalMs = DEFAULT_PING_MS): Dialer {
  return (url, events, options) => {
    // No mask where no intermediary reads the bytes (TLS, loopback): ws then copies nothing it sends.
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: options.handshakeTimeoutMs, ...(data.maskingNeeded(url) ? {} : { generateMask: data.zeroMask }) });
    let alive = true;
    let pinger: NodeJS.Timeout | undefined;
    socket.on('upgrade', (response) => {
      response.socket.setNoDelay(true);
    });
    socket.on('open', () => {
      pinger = setInterval(() => {
        if (!alive) {
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, pingIntervalMs);
      pinger.unref();
      events.onOpen();
    });
    socket.on('message', (message: RawData) => {
      alive = true;
      events.onMessage(bytesOf(message));
    });
    socket.on('pong', () => {
      alive = true;
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearInterval(pinger);
      events.onClose(code, reason.toString('utf8'));
    });
    socket.on('error', (error: Error) => {
      events.onError(error.message);
    });
    return {
      get isOpen() {
        return socket.readyState === WebSocket.OPEN;
      },
      send(bytes) {
        socket.send(bytes);
      },
      close(code, reason) {
        socket.close(code, reason);
      },
      terminate() {
        socket.terminate();
      },
    };
  };
}
