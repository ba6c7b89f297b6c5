/**
 * Port sessions: each Open on stream n ≥ 1 is a TCP connection from this host to the session's
 * host:port (TCP_NODELAY), answered Open (Ok) once connected or Close (Reset, the reason) when
 * not. Bytes go both ways within each stream's credit (@airlock/protocol's streams): a socket is
 * paused when its stream has no credit left or the data channel's window is full; credit goes
 * back once the peer's bytes are written to the socket. Fin is a half-close (socket.end, and a
 * socket's 'end' sends one), Reset destroys. One connection failing never ends the session.
 */
import { lookup as dnsLookup } from 'node:dns';
import { connect, type LookupFunction, type Socket } from 'node:net';
import { forwarding, streams, type data } from '@airlock/protocol';
import type { Logger } from '../log.js';
import type { DataLink } from './data-link.js';

interface Connection {
  readonly stream: streams.Stream;
  socket: Socket | undefined;
  connected: boolean;
  /** The peer's bytes that came before the connection did. */
  early: Uint8Array[];
  /** The peer's Fin came before the connection did. */
  endEarly: boolean;
}

export class PortForwarder {
  readonly #table = new streams.StreamTable('acceptor');
  readonly #connections = new Map<number, Connection>();
  #closed = false;

  constructor(
    private readonly target: { readonly host: string; readonly port: number },
    private readonly channel: DataLink,
    private readonly log: Logger,
    private readonly sessionId: string,
  ) {}

  /** Forwarded connections open now. */
  get size(): number {
    return this.#connections.size;
  }

  /** A frame of the peer's on stream n ≥ 1. */
  receive(frame: data.Frame): void {
    if (this.#closed) return;
    const incoming = this.#table.receive(frame);
    switch (incoming.kind) {
      case 'open':
        this.#open(incoming.stream);
        return;
      case 'data': {
        const connection = this.#connections.get(incoming.stream.id);
        if (connection === undefined) return;
        const { bytes } = incoming;
        if (!connection.connected || connection.socket === undefined) {
          // Within the stream's credit: bounded.
          connection.early.push(Uint8Array.from(bytes));
          return;
        }
        this.#write(connection, bytes);
        return;
      }
      case 'fin': {
        const connection = this.#connections.get(incoming.stream.id);
        if (connection === undefined) return;
        if (connection.connected) connection.socket?.end();
        else connection.endEarly = true;
        this.#forgetIfClosed(connection);
        return;
      }
      case 'reset': {
        const connection = this.#connections.get(incoming.stream.id);
        if (connection !== undefined) this.#drop(connection);
        return;
      }
      case 'window': {
        this.channel.sendAll(incoming.frames);
        const connection = this.#connections.get(incoming.stream.id);
        if (connection !== undefined) this.#forgetIfClosed(connection);
        this.resume();
        return;
      }
      case 'violation': {
        this.log.warn(`Session ${this.sessionId}: stream ${incoming.id} reset: ${incoming.reason}.`);
        this.channel.sendAll(incoming.frames);
        const connection = this.#connections.get(incoming.id);
        if (connection !== undefined) this.#drop(connection);
        return;
      }
      case 'accepted':
      case 'ignored':
        return;
    }
  }

  /** The window has room (or a stream has credit): read the sockets that may send again. */
  resume(): void {
    if (this.channel.congested) return;
    for (const connection of this.#connections.values()) {
      const socket = connection.socket;
      if (connection.connected && socket !== undefined && socket.isPaused() && !connection.stream.paused && connection.stream.canSend) socket.resume();
    }
  }

  /** Ends every connection (the session is over). */
  close(): void {
    this.#closed = true;
    for (const connection of this.#connections.values()) connection.socket?.destroy();
    this.#connections.clear();
  }

  #open(stream: streams.Stream): void {
    const connection: Connection = { stream, socket: undefined, connected: false, early: [], endEarly: false };
    this.#connections.set(stream.id, connection);
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true, allowHalfOpen: true, lookup: guardedLookup });
    connection.socket = socket;
    // An address given as such is never looked up: check it here.
    if (forwarding.isForbiddenAddress(this.target.host)) socket.destroy(new Error(`Forwarding to ${this.target.host} is forbidden: link-local and metadata addresses are never reached.`));
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (stream.closed) {
        socket.destroy();
        return;
      }
      connection.connected = true;
      this.channel.sendAll(stream.accept());
      for (const bytes of connection.early) this.#write(connection, bytes);
      connection.early = [];
      if (connection.endEarly) socket.end();
      if (this.channel.congested) socket.pause();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!stream.canSend) return;
      this.channel.sendAll(stream.write(chunk));
      if (stream.paused || this.channel.congested) socket.pause();
    });
    socket.on('end', () => {
      if (stream.canSend) this.channel.sendAll(stream.fin());
      this.#forgetIfClosed(connection);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (stream.closed) return;
      const what = connection.connected ? `connection to ${this.target.host}:${this.target.port} failed` : `cannot connect to ${this.target.host}:${this.target.port}`;
      this.channel.sendAll(stream.reset(`${what}: ${error.code ?? error.message}`));
    });
    socket.on('close', () => {
      if (!stream.closed) this.channel.sendAll(stream.reset('the connection closed'));
      this.#connections.delete(stream.id);
    });
  }

  /** The peer's bytes to the socket; credit back once they are written. */
  #write(connection: Connection, bytes: Uint8Array): void {
    const { socket, stream } = connection;
    if (socket === undefined || socket.destroyed) return;
    socket.write(bytes, (error) => {
      if (error === undefined || error === null) this.channel.sendAll(stream.written(bytes.length));
    });
  }

  /** Both ways finished: the socket closes itself (allowHalfOpen ends once both have ended). */
  #forgetIfClosed(connection: Connection): void {
    if (connection.stream.closed && connection.socket?.writableEnded === true && connection.socket.readableEnded) this.#connections.delete(connection.stream.id);
  }

  #drop(connection: Connection): void {
    connection.socket?.destroy();
    this.#connections.delete(connection.stream.id);
  }
}

/**
 * Resolves as Node would, then refuses link-local and metadata addresses: a name may resolve to
 * one, whatever the server checked when the session started.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error !== null) {
      callback(error, '', 4);
      return;
    }
    const allowed = addresses.filter((entry) => !forwarding.isForbiddenAddress(entry.address));
    const first = allowed[0];
    if (first === undefined) {
      callback(Object.assign(new Error(`Forwarding to ${hostname} (${addresses.map((entry) => entry.address).join(', ')}) is forbidden: link-local and metadata addresses are never reached.`), { code: 'EFORBIDDEN' }), '', 4);
      return;
    }
    if (options.all === true) callback(null, allowed);
    else callback(null, first.address, first.family);
  });
};
