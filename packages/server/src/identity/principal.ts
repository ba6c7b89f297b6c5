/** Who is calling. Each kind carries exactly what its checks need, and nothing else. */

export type Principal =
  | { readonly kind: 'anonymous' }
  /** The bootstrap token in DATA/root-token: bypasses policy, recorded as root. */
  | { readonly kind: 'root'; readonly accountId: string }
  /** A person signed in to the portal with MFA; may act on themselves. */
  | { readonly kind: 'portal'; readonly accountId: string; readonly userId: string; readonly userName: string; readonly sessionId: string; readonly mfa: boolean }
  /** A role session: a person working in an account with a permission set; its policies decide. */
  | RolePrincipal;

export interface RolePrincipal {
  readonly kind: 'role';
  readonly accountId: string;
  readonly userId: string;
  readonly userName: string;
  readonly sessionId: string;
  readonly permissionSetId: string;
  readonly permissionSetName: string;
  /** AWSReservedSSO_{PermissionSetName}_{16 hex}, as IAM Identity Center names its roles. */
  readonly roleName: string;
  /** When the sign-in behind this session passed MFA (epoch ms); null without MFA. */
  readonly mfaAt: number | null;
  /** The user's Attributes: they become aws:PrincipalTag/{key}. */
  readonly tags: Readonly<Record<string, string>>;
  readonly expiresAt: number;
}

/** arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{Name}_{hex}/{user} */
export const assumedRoleArn = (principal: RolePrincipal): string => `arn:aws:sts::${principal.accountId}:assumed-role/${principal.roleName}/${principal.userName}`;
export const roleArn = (principal: RolePrincipal): string =>
  `arn:aws:iam::${principal.accountId}:role/aws-reserved/sso.amazonaws.com/${principal.roleName}`;

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The account a caller works in: what it makes belongs there, and it sees only that account's. */
export function callerAccount(principal: Principal): string {
  if (principal.kind === 'anonymous') throw new Error('an anonymous caller has no account: the operation must not be public');
  return principal.accountId;
}
