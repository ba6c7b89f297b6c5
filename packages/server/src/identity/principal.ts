/** Who is calling. Each kind carries exactly what its checks need, and nothing else. */

export type Principal =
  | { readonly kind: 'anonymous' }
  /** The bootstrap token in DATA/root-token: bypasses policy, recorded as root. */
  | { readonly kind: 'root'; readonly accountId: string }
  /** A person signed in to the portal with MFA; may act on themselves. */
  | { readonly kind: 'portal'; readonly accountId: string; readonly userId: string; readonly userName: string; readonly sessionId: string; readonly mfa: boolean };

export const ANONYMOUS: Principal = { kind: 'anonymous' };
