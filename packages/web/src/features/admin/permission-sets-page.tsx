/**
 * Permission sets (sso:*): the list, creating one, and for the chosen one its inline policy
 * (editor with live findings and a simulator), managed policies, assignments, and deletion.
 */
import { ssoAdmin, type OutputOf } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useAction, useLoad, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { Assignments } from './assignments';
import { Done, SelectField, allPages } from './parts';
import { PolicyEditor } from './policy-editor';
import './admin.css';

type PermissionSet = OutputOf<typeof ssoAdmin.DescribePermissionSet>['PermissionSet'];

const DURATIONS = ['PT1H', 'PT2H', 'PT4H', 'PT8H', 'PT12H'].map((value) => ({ value, label: `${value.slice(2, -1)} hour${value === 'PT1H' ? '' : 's'}` }));
const MANAGED = ['AdministratorAccess', 'ReadOnlyAccess', 'AirlockSessionManagerAccess'].map((policy) => `arn:aws:iam::aws:policy/${policy}`);

async function loadPermissionSets(): Promise<PermissionSet[]> {
  const arns = await allPages(async (next) => {
    const page = await call(ssoAdmin.ListPermissionSets, { MaxResults: 100, ...(next === undefined ? {} : { NextToken: next }) });
    return { items: page.PermissionSets, next: page.NextToken };
  });
  const sets = await Promise.all(arns.map(async (arn) => (await call(ssoAdmin.DescribePermissionSet, { PermissionSetArn: arn })).PermissionSet));
  return sets.sort((a, b) => a.Name.localeCompare(b.Name));
}

export function PermissionSetsPage(): ReactNode {
  const sets = useLoad(loadPermissionSets, 'permission-sets');
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  if (sets.error !== undefined) return <ErrorMessage error={sets.error} />;
  if (sets.data === undefined) return <Loading what="the permission sets" />;
  const selected = sets.data.find((set) => set.PermissionSetArn === chosen);
  return (
    <>
      <CreatePermissionSet
        onCreated={(arn) => {
          setChosen(arn);
          sets.reload();
        }}
      />
      <section aria-labelledby="sets-heading">
        <h2 id="sets-heading">Permission sets</h2>
        <table>
          <caption className="visually-hidden">Permission sets</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Session duration</th>
            </tr>
          </thead>
          <tbody>
            {sets.data.map((set) => (
              <tr key={set.PermissionSetArn}>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    aria-expanded={chosen === set.PermissionSetArn}
                    onClick={() => {
                      setChosen(chosen === set.PermissionSetArn ? undefined : set.PermissionSetArn);
                    }}
                  >
                    {set.Name}
                  </button>
                </td>
                <td>{set.Description ?? ''}</td>
                <td>{set.SessionDuration}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selected !== undefined && (
        <section aria-labelledby="set-heading" className="panel" key={selected.PermissionSetArn}>
          <h2 id="set-heading">{selected.Name}</h2>
          <p className="mono">{selected.PermissionSetArn}</p>
          <h3>Inline policy</h3>
          <PolicyEditor arn={selected.PermissionSetArn} name={selected.Name} />
          <ManagedPolicies arn={selected.PermissionSetArn} name={selected.Name} />
          <Assignments arn={selected.PermissionSetArn} name={selected.Name} />
          <DeletePermissionSet
            set={selected}
            onDeleted={() => {
              setChosen(undefined);
              sets.reload();
            }}
          />
        </section>
      )}
    </>
  );
}

function CreatePermissionSet({ onCreated }: { onCreated: (arn: string) => void }): ReactNode {
  const create = useAction(ssoAdmin.CreatePermissionSet);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [duration, setDuration] = useState('PT1H');
  const [done, setDone] = useState('');
  return (
    <section aria-labelledby="create-set-heading">
      <h2 id="create-set-heading">Create a permission set</h2>
      <Form
        label="Create a permission set"
        onSubmit={async () => {
          setDone('');
          const result = await create.run({ Name: name.trim(), SessionDuration: duration, ...(description.trim() === '' ? {} : { Description: description.trim() }) });
          if (result === undefined) return;
          setDone(`${result.PermissionSet.Name} was created. Give it a policy below, then assign it.`);
          setName('');
          setDescription('');
          onCreated(result.PermissionSet.PermissionSetArn);
        }}
      >
        <TextField label="Permission set name" value={name} onValue={setName} required maxLength={32} autoComplete="off" hint="Up to 32 letters, digits and + = , . @ _ -" />
        <TextField label="Description" value={description} onValue={setDescription} autoComplete="off" />
        <SelectField label="Session duration" value={duration} onValue={setDuration} options={DURATIONS} />
        <SubmitButton pending={create.pending}>Create permission set</SubmitButton>
      </Form>
      <ErrorMessage error={create.error} labels={{ Name: 'Permission set name' }} />
      <Done>{done}</Done>
    </section>
  );
}

function ManagedPolicies({ arn, name }: { arn: string; name: string }): ReactNode {
  const attached = useOperation(ssoAdmin.ListManagedPoliciesInPermissionSet, { PermissionSetArn: arn });
  const attach = useAction(ssoAdmin.AttachManagedPolicyToPermissionSet);
  const detach = useAction(ssoAdmin.DetachManagedPolicyFromPermissionSet);
  const [choice, setChoice] = useState('');
  const names = new Set(attached.data?.AttachedManagedPolicies.map((policy) => policy.Arn));
  const available = MANAGED.filter((policy) => !names.has(policy));
  const chosen = choice === '' || !available.includes(choice) ? (available[0] ?? '') : choice;
  return (
    <section aria-labelledby="managed-heading">
      <h3 id="managed-heading">Managed policies</h3>
      <ErrorMessage error={attached.error ?? attach.error ?? detach.error} />
      {attached.data === undefined && attached.error === undefined && <Loading what="the managed policies" />}
      {attached.data !== undefined && (
        <ul className="plain-list">
          {attached.data.AttachedManagedPolicies.length === 0 && <li className="muted">None attached.</li>}
          {attached.data.AttachedManagedPolicies.map((policy) => (
            <li key={policy.Arn}>
              {policy.Name}{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Detach ${policy.Name} from ${name}`}
                onClick={() =>
                  void detach.run({ PermissionSetArn: arn, ManagedPolicyArn: policy.Arn }).then((result) => {
                    if (result !== undefined) attached.reload();
                  })
                }
              >
                Detach
              </button>
            </li>
          ))}
        </ul>
      )}
      {available.length > 0 && (
        <Form
          label={`Attach a managed policy to ${name}`}
          onSubmit={async () => {
            if ((await attach.run({ PermissionSetArn: arn, ManagedPolicyArn: chosen })) !== undefined) attached.reload();
          }}
        >
          <SelectField label="Managed policy" value={chosen} onValue={setChoice} options={available.map((policy) => ({ value: policy, label: policy.slice(policy.lastIndexOf('/') + 1) }))} />
          <SubmitButton pending={attach.pending}>Attach</SubmitButton>
        </Form>
      )}
    </section>
  );
}

function DeletePermissionSet({ set, onDeleted }: { set: PermissionSet; onDeleted: () => void }): ReactNode {
  const remove = useAction(ssoAdmin.DeletePermissionSet);
  return (
    <section aria-labelledby="delete-set-heading">
      <h3 id="delete-set-heading">Delete</h3>
      <p>A permission set can be deleted once no assignment uses it.</p>
      <button
        type="button"
        className="danger"
        disabled={remove.pending}
        onClick={() => {
          if (!window.confirm(`Delete ${set.Name}?`)) return;
          void remove.run({ PermissionSetArn: set.PermissionSetArn }).then((result) => {
            if (result !== undefined) onDeleted();
          });
        }}
      >
        Delete {set.Name}
      </button>
      <ErrorMessage error={remove.error} />
    </section>
  );
}
