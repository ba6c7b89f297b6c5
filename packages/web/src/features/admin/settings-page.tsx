/**
 * Settings: MFA (sso:GetMfaSettings / PutMfaSettings), Session Manager preferences, and the
 * activation tier service setting (ssm:GetServiceSetting / UpdateServiceSetting).
 */
import { fleet, portal } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { Done, SelectField } from './parts';
import { SessionPreferences } from './session-preferences';
import './admin.css';

type MfaMode = (typeof portal.MFA_MODES)[number];
type NoDeviceAction = (typeof portal.NO_DEVICE_ACTIONS)[number];
type UserVerification = (typeof portal.USER_VERIFICATIONS)[number];

/** AllowedMfaTypes as one choice: the list's order does not matter, and it is never empty. */
const TYPE_CHOICES: Record<string, { label: string; types: portal.MfaType[] }> = {
  AUTHENTICATOR_APP: { label: 'Authenticator apps', types: ['AUTHENTICATOR_APP'] },
  BOTH: { label: 'Authenticator apps and security keys (passkeys)', types: ['AUTHENTICATOR_APP', 'SECURITY_KEY'] },
  SECURITY_KEY: { label: 'Security keys (passkeys) only', types: ['SECURITY_KEY'] },
};
const typeChoice = (types: readonly portal.MfaType[]): string => (types.length === 2 ? 'BOTH' : (types[0] ?? 'AUTHENTICATOR_APP'));
const VERIFICATION_LABELS: Record<UserVerification, string> = {
  PREFERRED: 'When the key can (preferred)',
  REQUIRED: 'Always: a PIN or biometric on the key (required)',
};

const MODE_LABELS: Record<MfaMode, string> = {
  ALWAYS_ON: 'Every sign-in',
  CONTEXT_AWARE: 'Only from a device not trusted yet',
  DISABLED: 'Never',
};
const NO_DEVICE_LABELS: Record<NoDeviceAction, string> = {
  EMAIL_OTP: 'Send a code by email',
  REQUIRE_REGISTRATION: 'Require them to register an authenticator app',
  BLOCK: 'Refuse the sign-in',
  ALLOW: 'Let them sign in without MFA',
};

export function SettingsPage(): ReactNode {
  return (
    <>
      <section aria-labelledby="mfa-heading">
        <h2 id="mfa-heading">Multi-factor authentication</h2>
        <MfaSettings />
      </section>
      <section aria-labelledby="preferences-heading" className="panel">
        <h2 id="preferences-heading">Session Manager preferences</h2>
        <SessionPreferences />
      </section>
      <section aria-labelledby="service-heading" className="panel">
        <h2 id="service-heading">Service settings</h2>
        <ActivationTier />
      </section>
    </>
  );
}

function MfaSettings(): ReactNode {
  const current = useOperation(portal.GetMfaSettings, {});
  if (current.error !== undefined) return <ErrorMessage error={current.error} />;
  if (current.data === undefined) return <Loading what="the MFA settings" />;
  return <MfaForm initial={current.data} />;
}

function MfaForm({ initial }: { initial: portal.MfaSettingsOutput }): ReactNode {
  const [mode, setMode] = useState<MfaMode>(initial.MfaMode);
  const [types, setTypes] = useState(typeChoice(initial.AllowedMfaTypes));
  const [verification, setVerification] = useState<UserVerification>(initial.UserVerification);
  const [noDevice, setNoDevice] = useState<NoDeviceAction>(initial.NoDeviceAction);
  const [days, setDays] = useState(String(initial.TrustedDeviceDays));
  const [done, setDone] = useState('');
  const put = useAction(portal.PutMfaSettings);
  return (
    <Form
      label="MFA settings"
      onSubmit={async () => {
        setDone('');
        const allowed = TYPE_CHOICES[types]?.types ?? ['AUTHENTICATOR_APP'];
        const result = await put.run({ MfaMode: mode, AllowedMfaTypes: allowed, NoDeviceAction: noDevice, TrustedDeviceDays: Number(days), UserVerification: verification });
        if (result !== undefined) setDone('The MFA settings are saved; they apply to the next sign-in.');
      }}
    >
      <SelectField
        label="Ask for MFA"
        value={mode}
        onValue={(value) => {
          setMode(portal.MFA_MODES.find((entry) => entry === value) ?? 'ALWAYS_ON');
        }}
        options={portal.MFA_MODES.map((value) => ({ value, label: MODE_LABELS[value] }))}
      />
      {mode === 'CONTEXT_AWARE' && <TextField label="Trust a device for (days)" type="number" min={1} max={90} value={days} onValue={setDays} required />}
      <SelectField
        label="Users without an authenticator app"
        value={noDevice}
        onValue={(value) => {
          setNoDevice(portal.NO_DEVICE_ACTIONS.find((entry) => entry === value) ?? 'EMAIL_OTP');
        }}
        options={portal.NO_DEVICE_ACTIONS.map((value) => ({ value, label: NO_DEVICE_LABELS[value] }))}
      />
      <SelectField label="Allowed MFA types" value={types} onValue={setTypes} options={Object.entries(TYPE_CHOICES).map(([value, choice]) => ({ value, label: choice.label }))} />
      {types !== 'AUTHENTICATOR_APP' && (
        <SelectField
          label="User verification on security keys"
          value={verification}
          onValue={(value) => {
            setVerification(portal.USER_VERIFICATIONS.find((entry) => entry === value) ?? 'PREFERRED');
          }}
          options={portal.USER_VERIFICATIONS.map((value) => ({ value, label: VERIFICATION_LABELS[value] }))}
        />
      )}
      <SubmitButton pending={put.pending}>Save MFA settings</SubmitButton>
      <ErrorMessage error={put.error} />
      <Done>{done}</Done>
    </Form>
  );
}

function ActivationTier(): ReactNode {
  const setting = useOperation(fleet.GetServiceSetting, { SettingId: fleet.ACTIVATION_TIER_SETTING });
  const update = useAction(fleet.UpdateServiceSetting);
  const [tier, setTier] = useState('');
  const [done, setDone] = useState('');
  if (setting.error !== undefined) return <ErrorMessage error={setting.error} />;
  if (setting.data === undefined) return <Loading what="the service settings" />;
  const { ServiceSetting } = setting.data;
  const chosen = tier === '' ? ServiceSetting.SettingValue : tier;
  return (
    <Form
      label="Activation tier"
      onSubmit={async () => {
        setDone('');
        if ((await update.run({ SettingId: fleet.ACTIVATION_TIER_SETTING, SettingValue: chosen })) === undefined) return;
        setDone(`The activation tier is ${chosen}.`);
        setting.reload();
      }}
    >
      <SelectField
        label="Activation tier"
        value={chosen}
        onValue={setTier}
        options={fleet.ACTIVATION_TIERS.map((value) => ({ value, label: value === 'standard' ? 'Standard: up to 1,000 managed instances' : 'Advanced: more instances' }))}
        hint={`${ServiceSetting.Status}, last changed by ${ServiceSetting.LastModifiedUser}.`}
      />
      <SubmitButton pending={update.pending}>Save service setting</SubmitButton>
      <ErrorMessage error={update.error} />
      <Done>{done}</Done>
    </Form>
  );
}
