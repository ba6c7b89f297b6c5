/**
 * A permission set's inline policy: a JSON text area whose validation findings update as one
 * types (the policy package's analyzer, which the server runs again when the policy is saved),
 * and a simulate box that decides "may this user start a session on this instance?" against the
 * policy as written, with the statement that decided or the reason it is denied.
 */
import { analyzePolicy, decide, label, type Finding } from '@airlock/policy';
import { ssoAdmin } from '@airlock/protocol';
import { useId, useMemo, useState, type ReactNode } from 'react';
import { call, useAction, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { useRoleSession } from '../../app/identity';
import { listAllUsers } from './directory';
import { instanceArn, instanceLabel, serverRegion, taggedInstances } from './instances';
import { Done, SelectField, TextAreaField } from './parts';

/** What "Start from an example" writes: the guide's ProductionAccess policy, shown as an example, never as what is stored. */
const EXAMPLE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:StartSession'], Resource: ['arn:aws:ssm:*:*:managed-instance/*'], Condition: { StringLike: { 'ssm:resourceTag/project': ['Production'] } } }] }, null, 2);

export function PolicyEditor({ arn, name }: { arn: string; name: string }): ReactNode {
  const stored = useLoad(() => call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn }), arn);
  if (stored.error !== undefined) return <ErrorMessage error={stored.error} />;
  if (stored.data === undefined) return <Loading what="the inline policy" />;
  return <PolicyText arn={arn} name={name} initial={stored.data.InlinePolicy ?? ''} />;
}

function PolicyText({ arn, name, initial }: { arn: string; name: string; initial: string }): ReactNode {
  const [text, setText] = useState(initial);
  /** The policy as the server has it now: '' for none. */
  const [stored, setStored] = useState(initial);
  const [saved, setSaved] = useState('');
  const put = useAction(ssoAdmin.PutInlinePolicyToPermissionSet);
  const remove = useAction(ssoAdmin.DeleteInlinePolicyFromPermissionSet);
  const findingsId = useId();
  const empty = text.trim() === '';
  const analysis = useMemo(() => (empty ? undefined : analyzePolicy(text, { name: `${name} inline policy` })), [text, name, empty]);
  const errors = analysis?.findings.filter((finding) => finding.findingType === 'ERROR').length ?? 0;
  const edit = (value: string): void => {
    setText(value);
    setSaved('');
    // What the server said was about the text as it was; it is fixed or changed now.
    put.reset();
    remove.reset();
  };
  return (
    <>
      <Form
        label={`Inline policy of ${name}`}
        onSubmit={async () => {
          setSaved('');
          if ((await put.run({ PermissionSetArn: arn, InlinePolicy: text })) === undefined) return;
          setStored(text);
          setSaved(`The inline policy of ${name} is saved; it applies to the next call of every role session.`);
        }}
      >
        {stored === '' && <p className="hint">{name} has no inline policy: it grants what its managed policies grant, and nothing more.</p>}
        <TextAreaField
          label="Policy (JSON)"
          className="policy-text"
          rows={16}
          value={text}
          onValue={edit}
          placeholder='{"Version": "2012-10-17", "Statement": [ … ]}'
          describedBy={findingsId}
        />
        {analysis === undefined ? <p id={findingsId} className="hint">Write a policy, or start from an example.</p> : <Findings id={findingsId} findings={analysis.findings} />}
        <div className="actions">
          <SubmitButton pending={put.pending} disabled={empty}>
            Save policy
          </SubmitButton>
          {empty && (
            <button type="button" onClick={() => edit(EXAMPLE)}>
              Start from an example
            </button>
          )}
          {stored !== '' && (
            <button
              type="button"
              className="danger"
              disabled={remove.pending}
              onClick={() => {
                if (!window.confirm(`Remove the inline policy of ${name}? Role sessions keep only what its managed policies grant.`)) return;
                setSaved('');
                void remove.run({ PermissionSetArn: arn }).then((result) => {
                  if (result === undefined) return;
                  setStored('');
                  setText('');
                  setSaved(`The inline policy of ${name} is removed.`);
                });
              }}
            >
              Remove inline policy
            </button>
          )}
        </div>
        {errors > 0 && <p className="hint">The server refuses a policy with errors; fix them first.</p>}
      </Form>
      <ErrorMessage error={put.error ?? remove.error} />
      <Done>{saved}</Done>
      <Simulator policyText={text} policyName={`${name} inline policy`} />
    </>
  );
}

function Findings({ id, findings }: { id: string; findings: readonly Finding[] }): ReactNode {
  return (
    <div id={id} className="findings" aria-live="polite">
      {findings.length === 0 ? (
        <p className="finding-ok">No findings: the policy is valid.</p>
      ) : (
        <ul>
          {findings.map((finding, index) => (
            <li key={index} className={finding.findingType === 'ERROR' ? 'finding-error' : 'finding-warning'}>
              <strong>
                {finding.findingType === 'ERROR' ? 'Error' : 'Warning'} {finding.issueCode}
              </strong>
              {finding.path === '' ? '' : <> at <code>{finding.path}</code></>}: {finding.findingDetails}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface Verdict {
  readonly allowed: boolean;
  readonly text: string;
}

/**
 * Decides ssm:StartSession (the default shell document, so the instance alone is the resource)
 * for a user on an instance, with the request context the server builds: aws:username, the
 * user's attributes as aws:PrincipalTag/*, the instance's tags as ssm:resourceTag/*, MFA done.
 */
function Simulator({ policyText, policyName }: { policyText: string; policyName: string }): ReactNode {
  const session = useRoleSession();
  const facts = useLoad(async () => ({ users: await listAllUsers(), instances: await taggedInstances(), region: await serverRegion() }), 'simulate');
  const [userName, setUserName] = useState('');
  const [instanceId, setInstanceId] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>(undefined);
  if (facts.error !== undefined) return <ErrorMessage error={facts.error} />;
  if (facts.data === undefined) return <Loading what="users and instances to simulate with" />;
  const { users, instances, region } = facts.data;
  const chosenInstance = instanceId === '' ? instances[0] : instances.find((entry) => entry.instance.InstanceId === instanceId);
  const simulate = (): void => {
    const user = users.find((entry) => entry.UserName === userName.trim());
    if (user === undefined) {
      setVerdict({ allowed: false, text: `There is no user ${userName.trim()}.` });
      return;
    }
    if (chosenInstance === undefined) return;
    if (policyText.trim() === '') {
      setVerdict({ allowed: false, text: 'There is no inline policy to simulate: write one above.' });
      return;
    }
    const { policy, findings } = analyzePolicy(policyText, { name: policyName });
    if (policy === undefined) {
      setVerdict({ allowed: false, text: `The policy has ${findings.filter((finding) => finding.findingType === 'ERROR').length} error(s); fix them to simulate.` });
      return;
    }
    const context: Record<string, string> = { 'aws:username': user.UserName ?? '', 'aws:MultiFactorAuthPresent': 'true', 'aws:CurrentTime': new Date().toISOString() };
    for (const [key, value] of Object.entries(user.Attributes ?? {})) context[`aws:PrincipalTag/${key}`] = value;
    for (const tag of chosenInstance.tags) context[`ssm:resourceTag/${tag.Key}`] = tag.Value;
    const target = instanceArn(chosenInstance.instance.InstanceId, region, session.accountId);
    const decision = decide([policy], { action: 'ssm:StartSession', resource: target, context });
    const who = `${user.UserName ?? ''} on ${instanceLabel(chosenInstance.instance)}`;
    const statements = decision.matched.map(label).join(', ');
    if (decision.decision === 'implicitDeny') setVerdict({ allowed: false, text: `Denied: ${who}. ${decision.reason}` });
    else if (decision.decision === 'allowed') setVerdict({ allowed: true, text: `Allowed: ${who}, by ${statements}.` });
    else setVerdict({ allowed: false, text: `Denied: ${who}, by the Deny in ${statements}.` });
  };
  return (
    <section aria-labelledby="simulate-heading" className="simulate">
      <h3 id="simulate-heading">Simulate: may this user start a session?</h3>
      <p className="hint">Decides ssm:StartSession with the policy above as written (saved or not), as the server would for this user and instance. Attached managed policies are not included.</p>
      <Form label="Simulate a session start" onSubmit={simulate}>
        <TextField label="User name to simulate" value={userName} onValue={setUserName} required list="simulate-users" autoComplete="off" />
        <datalist id="simulate-users">
          {users.map((user) => (
            <option key={user.UserId} value={user.UserName} />
          ))}
        </datalist>
        {instances.length === 0 ? (
          <p>No instance is registered yet.</p>
        ) : (
          <SelectField
            label="Instance"
            value={chosenInstance?.instance.InstanceId ?? ''}
            onValue={setInstanceId}
            options={instances.map(({ instance, tags }) => ({ value: instance.InstanceId, label: `${instanceLabel(instance)} ${tags.map((tag) => `${tag.Key}=${tag.Value}`).join(' ')}` }))}
          />
        )}
        <SubmitButton pending={false}>Simulate</SubmitButton>
      </Form>
      {verdict !== undefined && (
        <p role="status" className={verdict.allowed ? 'verdict-allowed' : 'verdict-denied'}>
          {verdict.text}
        </p>
      )}
    </section>
  );
}
