/**
 * The root token: made at first start for bootstrap and automation, written to
 * DATA/root-token (0600) and stored only as its hash. It bypasses policy; every use is audited
 * as root. Deleting the file does not revoke it; `airlock server --rotate-root-token` would.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../storage/db.js';
import { writeFileAtomically } from '../storage/files.js';
import { ensureSetting, readSetting } from '../storage/settings.js';
import { hashToken, newToken } from './tokens.js';

const SETTING = 'root_token_sha256';

export interface RootToken {
  readonly hash: string;
  /** Where the token was written, when this start made it. */
  readonly writtenTo: string | undefined;
}

export async function ensureRootToken(db: Db, dataDir: string): Promise<RootToken> {
  const existing = await readSetting(db, SETTING);
  if (existing !== undefined) return { hash: existing, writtenTo: undefined };
  const token = newToken('alr_root_');
  const path = join(dataDir, 'root-token');
  await writeFileAtomically(path, `${token}\n`, 0o600);
  const hash = hashToken(token);
  // Nodes starting at once on a fresh database each make one; the first stored wins, and a
  // loser removes its file so that no data directory holds a token that does not work.
  const stored = await ensureSetting(db, SETTING, () => hash);
  if (stored === hash) return { hash, writtenTo: path };
  await rm(path, { force: true });
  return { hash: stored, writtenTo: undefined };
}
