/**
 * An API operation, defined once: its service and name, its input and output shapes, and who
 * may call it. The server's route, the CLI command, the authorization action and the reference
 * docs all derive from this record.
 */
import type { StructureShape, TypeOf } from './schema.js';

/**
 * - `authorized`: a role session whose policies allow `service:Name`, or the root token;
 * - `portal`: a signed-in portal session acting on itself (MFA done);
 * - `public`: anyone; the operation does its own checks (sign-in, accepting an invitation);
 * - `any`: any authenticated caller, about itself (sts:GetCallerIdentity).
 */
export type Caller = 'authorized' | 'portal' | 'public' | 'any';

export interface OperationSpec<I = unknown, O = unknown> {
  readonly service: string;
  readonly name: string;
  readonly summary: string;
  readonly caller: Caller;
  /** Read-only operations are marked so in the audit trail. */
  readonly readOnly: boolean;
  readonly input: StructureShape<I>;
  readonly output: StructureShape<O>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds operations of every shape
export type AnyOperation = OperationSpec<any, any>;

export type InputOf<Op> = Op extends OperationSpec<infer I> ? I : never;
export type OutputOf<Op> = Op extends OperationSpec<unknown, infer O> ? O : never;

export function operation<IS extends StructureShape, OS extends StructureShape>(spec: {
  service: string;
  name: string;
  summary: string;
  caller?: Caller;
  readOnly?: boolean;
  input: IS;
  output: OS;
}): OperationSpec<TypeOf<IS>, TypeOf<OS>> {
  return {
    caller: 'authorized',
    readOnly: /^(Describe|Get|List|Is)/.test(spec.name),
    ...spec,
  } as OperationSpec<TypeOf<IS>, TypeOf<OS>>;
}

/** `identitystore:CreateUser`: the IAM action that authorizes the operation. */
export function actionOf(spec: AnyOperation): string {
  return `${spec.service}:${spec.name}`;
}

/** `CreateUser` → `create-user`, as the AWS CLI names commands and options. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}
