/**
 * The one thing a session's connection needs from a WebSocket library: dial a URL, send binary
 * messages, hear messages and the close. The browser's WebSocket (browser-socket.ts) and Node's
 * `ws` (the CLI's) both fit; liveness checks (pings) are the dialer's business, since only `ws`
 * can send them.
 */
export interface SocketEvents {
  onOpen(): void;
  onMessage(bytes: Uint8Array): void;
  /** The socket is gone: after `close`, a drop, or a failed dial. Called once. */
  onClose(code: number, reason: string): void;
  /** A failure before or while closing; `onClose` follows when the socket had opened. */
  onError(message: string): void;
}

export interface SessionSocket {
  readonly isOpen: boolean;
  send(bytes: Uint8Array): void;
  /** A clean close with a code and reason. */
  close(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
}

export interface DialOptions {
  /** How long the WebSocket handshake may take. */
  readonly handshakeTimeoutMs: number;
}

export type Dialer = (url: string, events: SocketEvents, options: DialOptions) => SessionSocket;
