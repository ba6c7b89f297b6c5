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

/** What a call acts on, for the access check: its ARN and the tags policy conditions may test. */
export interface ResourceRef {
  readonly arn: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Names the resources a call acts on, before it runs. It must not reveal whether they exist:
 * an unknown one is named by the ARN it would have, without tags.
 */
export type ResourceResolver<Op extends AnyOperation> = (input: InputOf<Op>, context: CallContext) => Promise<readonly ResourceRef[]>;

export interface BoundOperation {
  readonly spec: AnyOperation;
  readonly handle: (input: unknown, context: CallContext) => Promise<unknown>;
  /** Absent: the operation acts on no particular resource (policies see "*"). */
  readonly resources?: (input: unknown, context: CallContext) => Promise<readonly ResourceRef[]>;
}

export function bind<Op extends AnyOperation>(spec: Op, handle: Handler<Op>, options: { resources?: ResourceResolver<Op> } = {}): BoundOperation {
  const { resources } = options;
  return {
    spec,
    handle: (input, context) => handle(input as InputOf<Op>, context),
    ...(resources === undefined ? {} : { resources: (input: unknown, context: CallContext) => resources(input as InputOf<Op>, context) }),
  };
}
