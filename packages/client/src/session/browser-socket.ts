/**
 * The browser's WebSocket as a session socket. Browsers send no pings a page controls; a dead
 * network shows as a close (the browser's own timeouts), which the connection resumes from.
 */
import type { Dialer, SessionSocket } from './socket.js';

export const browserDialer: Dialer = (url, events) => {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  let closed = false;
  socket.addEventListener('open', () => {
    events.onOpen();
  });
  socket.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (event.data instanceof ArrayBuffer) events.onMessage(new Uint8Array(event.data));
    else events.onError('the server sent a text message on a binary channel');
  });
  socket.addEventListener('error', () => {
    // The browser hides the cause from scripts on purpose; the close that follows has the code.
    events.onError(`cannot talk to ${url}`);
  });
  socket.addEventListener('close', (event: CloseEvent) => {
    if (closed) return;
    closed = true;
    events.onClose(event.code, event.reason);
  });
  const wrapped: SessionSocket = {
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
      // No abrupt close in browsers: close now and report it at once, without waiting for the server.
      socket.close(4000, 'dropped by the client');
      if (closed) return;
      closed = true;
      events.onClose(1006, 'dropped by the client');
    },
  };
  return wrapped;
};
