/**
 * Session Manager preferences: the inputs of the account's SSM-SessionManagerRunShell document
 * (logging, idle timeout, maximum duration, Run As, shell profile). Saving adds a version with
 * ssm:UpdateDocument, which for this document is in force at once.
 */
import { documents } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useAction, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { CheckboxField, Done, TextAreaField } from './parts';

const RUN_SHELL = 'SSM-SessionManagerRunShell';

/** The inputs this form edits; others in the document (kmsKeyId, …) are kept as they are. */
interface Inputs {
  s3BucketName: string;
  s3KeyPrefix: string;
  s3EncryptionEnabled: boolean;
  cloudWatchLogGroupName: string;
  cloudWatchEncryptionEnabled: boolean;
  cloudWatchStreamingEnabled: boolean;
  idleSessionTimeout: string;
  maxSessionDuration: string;
  runAsEnabled: boolean;
  runAsDefaultUser: string;
  shellProfile: string;
}

interface Stored {
  readonly document: Record<string, unknown>;
  readonly inputs: Inputs;
}

const text = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const flag = (value: unknown, fallback: boolean): boolean => (typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : fallback);

async function loadPreferences(): Promise<Stored> {
  const { Content } = await call(documents.GetDocument, { Name: RUN_SHELL });
  const document = JSON.parse(Content ?? '{}') as Record<string, unknown>;
  const inputs = (document.inputs ?? {}) as Record<string, unknown>;
  const profile = (inputs.shellProfile ?? {}) as Record<string, unknown>;
  return {
    document,
    inputs: {
      s3BucketName: text(inputs.s3BucketName),
      s3KeyPrefix: text(inputs.s3KeyPrefix),
      s3EncryptionEnabled: flag(inputs.s3EncryptionEnabled, true),
      cloudWatchLogGroupName: text(inputs.cloudWatchLogGroupName),
      cloudWatchEncryptionEnabled: flag(inputs.cloudWatchEncryptionEnabled, true),
      cloudWatchStreamingEnabled: flag(inputs.cloudWatchStreamingEnabled, true),
      idleSessionTimeout: text(inputs.idleSessionTimeout, '20'),
      maxSessionDuration: text(inputs.maxSessionDuration),
      runAsEnabled: flag(inputs.runAsEnabled, false),
      runAsDefaultUser: text(inputs.runAsDefaultUser),
      shellProfile: text(profile.linux),
    },
  };
}

export function SessionPreferences(): ReactNode {
  const stored = useLoad(loadPreferences, RUN_SHELL);
  if (stored.error !== undefined) return <ErrorMessage error={stored.error} />;
  if (stored.data === undefined) return <Loading what="the session preferences" />;
  return <PreferencesForm stored={stored.data} />;
}

function PreferencesForm({ stored }: { stored: Stored }): ReactNode {
  const [inputs, setInputs] = useState<Inputs>(stored.inputs);
  const [done, setDone] = useState('');
  const update = useAction(documents.UpdateDocument);
  const set =
    <Key extends keyof Inputs>(key: Key) =>
    (value: Inputs[Key]): void => {
      setInputs((previous) => ({ ...previous, [key]: value }));
      setDone('');
    };
  const save = async (): Promise<void> => {
    setDone('');
    const previous = (stored.document.inputs ?? {}) as Record<string, unknown>;
    const previousProfile = (previous.shellProfile ?? {}) as Record<string, unknown>;
    const { shellProfile, ...rest } = inputs;
    const content = { ...stored.document, schemaVersion: '1.0', sessionType: 'Standard_Stream', inputs: { ...previous, ...rest, shellProfile: { ...previousProfile, linux: shellProfile } } };
    const result = await update.run({ Name: RUN_SHELL, Content: JSON.stringify(content, null, 2), DocumentVersion: '$LATEST', DocumentFormat: 'JSON' });
    if (result !== undefined) setDone(`Saved as version ${result.DocumentDescription?.DocumentVersion ?? ''}: new sessions use these preferences.`);
  };
  return (
    <Form label="Session preferences" onSubmit={save}>
      <fieldset>
        <legend>Recording to S3</legend>
        <TextField label="S3 bucket name" value={inputs.s3BucketName} onValue={set('s3BucketName')} autoComplete="off" hint="Empty: no copy to S3." />
        <TextField label="S3 key prefix" value={inputs.s3KeyPrefix} onValue={set('s3KeyPrefix')} autoComplete="off" />
        <CheckboxField label="Encrypt S3 objects" checked={inputs.s3EncryptionEnabled} onChecked={set('s3EncryptionEnabled')} />
      </fieldset>
      <fieldset>
        <legend>Recording to CloudWatch Logs</legend>
        <TextField label="Log group name" value={inputs.cloudWatchLogGroupName} onValue={set('cloudWatchLogGroupName')} autoComplete="off" hint="Empty: no log stream." />
        <CheckboxField label="Require an encrypted log group" checked={inputs.cloudWatchEncryptionEnabled} onChecked={set('cloudWatchEncryptionEnabled')} />
        <CheckboxField label="Stream session data while it runs" checked={inputs.cloudWatchStreamingEnabled} onChecked={set('cloudWatchStreamingEnabled')} />
      </fieldset>
      <fieldset>
        <legend>Timeouts</legend>
        <TextField label="Idle session timeout (minutes)" type="number" min={1} max={60} value={inputs.idleSessionTimeout} onValue={set('idleSessionTimeout')} required />
        <TextField label="Maximum session duration (minutes)" type="number" min={1} max={1440} value={inputs.maxSessionDuration} onValue={set('maxSessionDuration')} hint="Empty: no limit." />
      </fieldset>
      <fieldset>
        <legend>Run As</legend>
        <CheckboxField label="Run sessions as the user's SSMSessionRunAs tag, or the default user" checked={inputs.runAsEnabled} onChecked={set('runAsEnabled')} />
        <TextField label="Run As default user" value={inputs.runAsDefaultUser} onValue={set('runAsDefaultUser')} autoComplete="off" hint="An OS user name; never root." />
      </fieldset>
      <TextAreaField label="Linux shell profile" rows={3} value={inputs.shellProfile} onValue={set('shellProfile')} />
      <SubmitButton pending={update.pending}>Save preferences</SubmitButton>
      <ErrorMessage error={update.error} />
      <Done>{done}</Done>
    </Form>
  );
}
