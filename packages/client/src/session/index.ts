/** A session's data channel at the client (`@airlock/client/session`), for the CLI and the browser. */
export { backoffDelays, DEFAULT_RETRY, type RetryPolicy } from './backoff.js';
export { ResumeRefused, SessionConnection, type ConnectionNotice, type ConnectionOptions, type StreamGrant } from './connection.js';
export { browserDialer } from './browser-socket.js';
export type { Dialer, DialOptions, SessionSocket, SocketEvents } from './socket.js';
