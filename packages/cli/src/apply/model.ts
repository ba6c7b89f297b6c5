/**
 * What a setup file (`airlock apply -f setup.yaml`) describes, once read and checked: the MFA
 * settings, groups, users with their memberships, permission sets with their policies, and the
 * assignments of permission sets to groups or users in accounts. Names refer to each other;
 * ids are the server's business and are found when planning.
 */
import type { portal } from '@airlock/protocol';
import type { Finding } from '@airlock/policy';
import type { IdentitySourceSpec } from './identity-source.js';

export type MfaMode = (typeof portal.MFA_MODES)[number];
export type NoDeviceAction = (typeof portal.NO_DEVICE_ACTIONS)[number];
export type MfaType = portal.MfaType;

/** Where a value was written: `users[1].groups[0]` as segments. */
export type Path = readonly (string | number)[];

export interface MfaSpec {
  readonly mode: MfaMode;
  readonly allowedTypes: readonly MfaType[];
  readonly noDeviceAction: NoDeviceAction;
  /** Left as the server has it when not given. */
  readonly trustedDeviceDays?: number;
}

export interface GroupSpec {
  readonly name: string;
  readonly description?: string;
}

export interface UserSpec {
  readonly userName: string;
  readonly email: string;
  readonly displayName?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  /** Group names, each defined under `groups`. */
  readonly groups: readonly string[];
  /** Access-control attributes (aws:PrincipalTag/{key}); only these keys are set. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PolicySpec {
  /** As written in the file (relative to it), for messages. */
  readonly file: string;
  /** The document's text, sent verbatim. */
  readonly text: string;
  /** The parsed document, for comparing with what the server holds. */
  readonly document: unknown;
  /** WARNING findings of the policy analyzer, shown when the policy is about to be written. */
  readonly warnings: readonly Finding[];
}

export interface PermissionSetSpec {
  readonly name: string;
  readonly description?: string;
  /** ISO 8601, PT1H to PT12H. */
  readonly sessionDuration?: string;
  readonly relayState?: string;
  readonly policy?: PolicySpec;
  readonly managedPolicies: readonly string[];
  /** Set when the permission set is created (the API has no call to read or change them later). */
  readonly tags: Readonly<Record<string, string>>;
}

export type PrincipalType = 'USER' | 'GROUP';

export interface AssignmentSpec {
  readonly permissionSet: string;
  /** `management`, a 12-digit account id, or an account name. */
  readonly account: string;
  readonly principalType: PrincipalType;
  /** A group name or a user name, defined in the file. */
  readonly principalName: string;
  /** Where it was written, so that an account the server does not know can be reported there. */
  readonly path: Path;
  /** The source location of `account`, for the same reason. */
  readonly accountLocation: string;
}

export interface Setup {
  /** The file as the user named it. */
  readonly file: string;
  readonly mfa?: MfaSpec;
  readonly groups: readonly GroupSpec[];
  readonly users: readonly UserSpec[];
  readonly permissionSets: readonly PermissionSetSpec[];
  readonly assignments: readonly AssignmentSpec[];
  /** Where identities come from (sso:PutIdentitySource); applied last. */
  readonly identitySource?: IdentitySourceSpec;
}

/** One thing wrong with a setup file, with where it is. */
export interface Problem {
  /** `setup.yaml:12:7`, or just the file when no place is known. */
  readonly location: string;
  /** `users[1].groups[0]`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

/** Seconds of an ISO 8601 duration PT#H#M#S (its pattern is checked by the API's shape). */
export function durationSeconds(duration: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (match === null) return Number.NaN;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

export function formatPath(path: Path): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

export function formatProblem(problem: Problem): string {
  return problem.path === '' ? `${problem.location}: ${problem.message}` : `${problem.location}: ${problem.path}: ${problem.message}`;
}

/** A setup file with problems: nothing was sent to the server. */
export class SetupError extends Error {
  override readonly name = 'SetupError';

  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
