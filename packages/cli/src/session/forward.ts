/**
 * Forwarded connections at the client: each local endpoint (an accepted TCP socket, or stdin
 * and stdout for ssh's ProxyCommand) becomes a stream of the session, with the rules of
 * @airlock/protocol's data-streams: Open, then Data within the stream's credit, Window frames
 * once bytes are written out, Fin on half-close, Reset on error. A stream that fails ends that
 * endpoint only; the session goes on.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { streams, type data } from '@airlock/protocol';
import type { SessionConnection } from '@airlock/client/session';

export interface Endpoint {
  /** Bytes towards the agent. */
  readonly input: Readable;
  /** Writes bytes from the agent; `written` once they are out (the credit goes back then). */
  write(bytes: Uint8Array, written: () => void): void;
  /** The agent sent its last byte (after everything written before). */
  end(): void;
  /** Abort at once. */
  destroy(reason: string): void;
}

/** A TCP socket as an endpoint. It must allow half-open connections, so a Fin each way is honoured. */
export function socketEndpoint(socket: Socket): Endpoint {
  return {
    input: socket,
    write: (bytes, written) => socket.write(bytes, () => written()),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

/** Why a stream ended: undefined when both sides finished normally. */
export type StreamEnd = (id: number, reason: string | undefined) => void;

export class Forwarder {
  private readonly table = new streams.StreamTable('opener');
  private readonly endpoints = new Map<number, { readonly endpoint: Endpoint; readonly stream: streams.Stream }>();
  onStreamEnd: StreamEnd = () => undefined;

  constructor(private readonly connection: SessionConnection) {}

  get size(): number {
    return this.endpoints.size;
  }

  /** Carries `endpoint` on a new stream: Open now, its bytes as they come. The stream's id. */
  carry(endpoint: Endpoint): number {
    const { stream, frames } = this.table.open();
    this.endpoints.set(stream.id, { endpoint, stream });
    this.sendAll(frames);
    const { input } = endpoint;
    let ended = false;
    input.on('data', (chunk: Buffer) => {
      if (!stream.canSend) return;
      this.sendAll(stream.write(chunk));
      if (stream.paused || !this.connection.writable) input.pause();
    });
    input.on('end', () => {
      ended = true;
      if (stream.canSend) this.sendAll(stream.fin());
      this.settle(stream.id);
    });
    input.on('error', (error: Error) => {
      this.abort(stream.id, error.message);
    });
    input.on('close', () => {
      // A socket that closed before its end was read was cut short (bytes read may still wait for credit).
      if (!ended && !stream.closed) this.abort(stream.id, 'the local connection closed');
    });
    return stream.id;
  }

  /** A frame of the agent's on a stream n ≥ 1; `done` at once (each stream's credit bounds what waits). */
  receive(frame: data.Frame, done: () => void): void {
    done();
    const incoming = this.table.receive(frame);
    switch (incoming.kind) {
      case 'data': {
        const { stream, bytes } = incoming;
        this.endpoints.get(stream.id)?.endpoint.write(bytes, () => {
          this.sendAll(stream.written(bytes.length));
        });
        return;
      }
      case 'window':
        this.sendAll(incoming.frames);
        this.resume(incoming.stream.id);
        this.settle(incoming.stream.id);
        return;
      case 'fin':
        this.endpoints.get(incoming.stream.id)?.endpoint.end();
        this.settle(incoming.stream.id);
        return;
      case 'reset':
        this.finish(incoming.stream.id, incoming.reason, true);
        return;
      case 'violation':
        this.sendAll(incoming.frames);
        this.finish(incoming.id, incoming.reason, true);
        return;
      case 'open':
        // Only the client opens streams.
        this.sendAll(incoming.stream.reset('the client does not accept streams'));
        return;
      case 'accepted':
      case 'ignored':
        return;
    }
  }

  /** The session's window has room: every stream with credit reads again. */
  resumeAll(): void {
    for (const id of this.endpoints.keys()) this.resume(id);
  }

  /** Destroys every endpoint (the session is over); nothing is sent. */
  destroyAll(reason: string): void {
    for (const id of [...this.endpoints.keys()]) this.finish(id, reason, true);
  }

  private resume(id: number): void {
    const entry = this.endpoints.get(id);
    if (entry === undefined || entry.stream.paused || !this.connection.writable) return;
    if (entry.endpoint.input.isPaused()) entry.endpoint.input.resume();
  }

  private abort(id: number, reason: string): void {
    const entry = this.endpoints.get(id);
    if (entry === undefined) return;
    this.sendAll(entry.stream.reset(reason));
    this.finish(id, reason, true);
  }

  /** Both sides sent their Fin: the stream is over, normally. */
  private settle(id: number): void {
    const entry = this.endpoints.get(id);
    if (entry?.stream.closed === true) this.finish(id, undefined, false);
  }

  private finish(id: number, reason: string | undefined, destroy: boolean): void {
    const entry = this.endpoints.get(id);
    if (entry === undefined) return;
    this.endpoints.delete(id);
    if (destroy) entry.endpoint.destroy(reason ?? 'reset');
    this.onStreamEnd(id, reason);
  }

  private sendAll(frames: readonly data.Outgoing[]): void {
    for (const frame of frames) this.connection.send(frame);
  }
}
