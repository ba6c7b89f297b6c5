/** The MFA settings (sso:PutMfaSettings): stored as one JSON setting, the guide's choices by default. */
import { portal, type TypeOf } from '@airlock/protocol';
import { bind, type BoundOperation } from '../registry/handler.js';
import type { Db } from '../storage/db.js';
import { readSetting, writeSetting } from '../storage/settings.js';

export type MfaSettings = TypeOf<typeof portal.GetMfaSettings.output>;

const SETTING = 'mfa_settings';

/** What the guide chooses: MFA at every sign-in, an authenticator app, an emailed code for users without one. */
export const DEFAULT_MFA_SETTINGS: MfaSettings = {
  MfaMode: 'ALWAYS_ON',
  AllowedMfaTypes: ['AUTHENTICATOR_APP'],
  NoDeviceAction: 'EMAIL_OTP',
  TrustedDeviceDays: 30,
  UserVerification: 'PREFERRED',
};

export async function mfaSettings(db: Db): Promise<MfaSettings> {
  const stored = await readSetting(db, SETTING);
  return stored === undefined ? DEFAULT_MFA_SETTINGS : { ...DEFAULT_MFA_SETTINGS, ...(JSON.parse(stored) as Partial<MfaSettings>) };
}

export const MFA_SETTINGS_OPERATIONS: readonly BoundOperation[] = [
  bind(portal.GetMfaSettings, async (_input, { services }) => mfaSettings(services.db)),
  bind(portal.PutMfaSettings, async (input, { services }) => {
    const { InstanceArn: _instance, ...settings } = input;
    await writeSetting(services.db, SETTING, JSON.stringify({
        ...settings,
        TrustedDeviceDays: settings.TrustedDeviceDays ?? DEFAULT_MFA_SETTINGS.TrustedDeviceDays,
        UserVerification: settings.UserVerification ?? DEFAULT_MFA_SETTINGS.UserVerification,
      }));
    return {};
  }),
];
