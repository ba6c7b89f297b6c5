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

function MfaForm({ initial }: { initial: { MfaMode: MfaMode; NoDeviceAction: NoDeviceAction; TrustedDeviceDays: number } }): ReactNode {
  const [mode, setMode] = useState<MfaMode>(initial.MfaMode);
  const [noDevice, setNoDevice] = useState<NoDeviceAction>(initial.NoDeviceAction);
  const [days, setDays] = useState(String(initial.TrustedDeviceDays));
  const [done, setDone] = useState('');
  const put = useAction(portal.PutMfaSettings);
  return (
    <Form
      label="MFA settings"
      onSubmit={async () => {
        setDone('');
        const result = await put.run({ MfaMode: mode, AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: noDevice, TrustedDeviceDays: Number(days) });
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
      <p className="hint">Allowed MFA type: authenticator apps.</p>
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
