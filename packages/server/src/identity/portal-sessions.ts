/**
 * Portal sessions: what a completed sign-in yields. A 256-bit bearer token (shown once, stored
 * hashed), valid 8 hours unless signed out or revoked.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.js';
import { hashToken, newToken } from './tokens.js';

export const PORTAL_SESSION_TTL_MS = 8 * 3600 * 1000;
export const PORTAL_TOKEN_PREFIX = 'alp_';

export interface PortalSessionRow {
  readonly sessionId: string;
  readonly userId: string;
  readonly userName: string;
  readonly mfa: boolean;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export async function createPortalSession(db: Db, userId: string, mfa: boolean, now: number): Promise<{ token: string; expiresAt: number }> {
  const token = newToken(PORTAL_TOKEN_PREFIX);
  const expiresAt = now + PORTAL_SESSION_TTL_MS;
  await db
    .insertInto('portal_sessions')
    .values({ token_hash: hashToken(token), session_id: randomUUID(), user_id: userId, mfa: mfa ? 1 : 0, created_at: now, expires_at: expiresAt, revoked_at: null })
    .execute();
  return { token, expiresAt };
}

/** The live session a token names, or undefined when it is unknown, expired or revoked. */
export async function findPortalSession(db: Db, token: string, now: number): Promise<PortalSessionRow | undefined> {
  const row = await db
    .selectFrom('portal_sessions')
    .innerJoin('users', 'users.user_id', 'portal_sessions.user_id')
    .select(['portal_sessions.session_id', 'portal_sessions.user_id', 'users.user_name', 'portal_sessions.mfa', 'portal_sessions.created_at', 'portal_sessions.expires_at'])
    .where('portal_sessions.token_hash', '=', hashToken(token))
    .where('portal_sessions.revoked_at', 'is', null)
    .where('portal_sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { sessionId: row.session_id, userId: row.user_id, userName: row.user_name, mfa: row.mfa === 1, createdAt: row.created_at, expiresAt: row.expires_at };
}

export async function revokePortalSession(db: Db, sessionId: string, now: number): Promise<void> {
  await db.updateTable('portal_sessions').set({ revoked_at: now }).where('session_id', '=', sessionId).where('revoked_at', 'is', null).execute();
}
