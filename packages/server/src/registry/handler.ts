/**
 * Binds an operation's definition (from @airlock/protocol) to the function that carries it out.
 * The HTTP layer only ever sees BoundOperations: it validates, authenticates, authorizes and
 * audits the same way for all of them.
 */
import type { AnyOperation, InputOf, OutputOf } from '@airlock/protocol';
import type { Principal } from '../identity/principal.js';
import type { Services } from '../services.js';

export interface CallContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** Epoch milliseconds of the request, from the services' clock. */
  readonly now: number;
  readonly services: Services;
}

export type Handler<Op extends AnyOperation> = (input: InputOf<Op>, context: CallContext) => Promise<OutputOf<Op>>;

export interface BoundOperation {
  readonly spec: AnyOperation;
  readonly handle: (input: unknown, context: CallContext) => Promise<unknown>;
}

export function bind<Op extends AnyOperation>(spec: Op, handle: Handler<Op>): BoundOperation {
  return { spec, handle: (input, context) => handle(input as InputOf<Op>, context) };
}
