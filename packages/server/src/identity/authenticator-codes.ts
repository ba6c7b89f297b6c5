/** Checking a sign-in code against a user's registered authenticator apps. */
import type { Services } from '../services.js';
import { verifyTotp } from './totp.js';

/**
 * Checks a code against each of the user's verified authenticators. A code is taken once: the
 * step is recorded with a conditional update, so two requests racing with one code cannot both win.
 */
export type CodeCheck = 'accepted' | 'replayed' | 'mismatch';

export async function verifyUserCode(services: Services, userId: string, code: string, now: number): Promise<CodeCheck> {
  const devices = await services.db.selectFrom('mfa_devices').selectAll().where('user_id', '=', userId).where('verified', '=', 1).execute();
  let replayed = false;
  for (const device of devices) {
    const result = verifyTotp(services.secrets.open(device.secret), code, now, { lastUsedStep: device.last_used_step });
    if (!result.ok) {
      replayed ||= result.reason === 'replayed';
      continue;
    }
    const taken = await services.db
      .updateTable('mfa_devices')
      .set({ last_used_step: result.step, last_used_at: now })
      .where('device_id', '=', device.device_id)
      .where('last_used_step', '<', result.step)
      .executeTakeFirst();
    if (taken.numUpdatedRows > 0n) return 'accepted';
    // Another request took this code first.
    replayed = true;
  }
  return replayed ? 'replayed' : 'mismatch';
}
