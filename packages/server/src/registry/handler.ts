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
  /** Condition keys that hold for this resource only (ssm:SessionDocumentAccessCheck). */
  readonly context?: Readonly<Record<string, string>>;
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
  /** True when the caller acts on what is theirs alone, which needs no policy (resuming one's own session). */
  readonly callersOwn?: (input: unknown, context: CallContext) => Promise<boolean>;
}

export interface BindOptions<Op extends AnyOperation> {
  readonly resources?: ResourceResolver<Op>;
  readonly callersOwn?: (input: InputOf<Op>, context: CallContext) => Promise<boolean>;
}

export function bind<Op extends AnyOperation>(spec: Op, handle: Handler<Op>, options: BindOptions<Op> = {}): BoundOperation {
  const { resources, callersOwn } = options;
  return {
    spec,
    handle: (input, context) => handle(input as InputOf<Op>, context),
    ...(resources === undefined ? {} : { resources: (input: unknown, context: CallContext) => resources(input as InputOf<Op>, context) }),
    ...(callersOwn === undefined ? {} : { callersOwn: (input: unknown, context: CallContext) => callersOwn(input as InputOf<Op>, context) }),
  };
}
