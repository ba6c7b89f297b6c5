/**
 * Activations (ssm:CreateActivation, DescribeActivations, DeleteActivation): a new one's code,
 * id and the agent's command line are shown once, ready to copy; the server keeps only a hash.
 */
import { fleet } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { CopyBox, Done, TextAreaField } from './parts';
import { formatTags, parseTags } from './tags';
import './admin.css';

const DAY = 86_400;

interface Created {
  readonly id: string;
  readonly code: string;
}

export function ActivationsPage(): ReactNode {
  const list = useOperation(fleet.DescribeActivations, {});
  const remove = useAction(fleet.DeleteActivation);
  const [created, setCreated] = useState<Created | undefined>(undefined);
  const [done, setDone] = useState('');
  return (
    <>
      <CreateActivation
        onCreated={(activation) => {
          setCreated(activation);
          list.reload();
        }}
      />
      {created !== undefined && <ShownOnce created={created} />}
      <section aria-labelledby="activations-heading">
        <h2 id="activations-heading">Activations</h2>
        <ErrorMessage error={list.error ?? remove.error} />
        <Done>{done}</Done>
        {list.data === undefined && list.error === undefined && <Loading what="the activations" />}
        {list.data !== undefined && (
          <table>
            <caption className="visually-hidden">Activations</caption>
            <thead>
              <tr>
                <th scope="col">Activation id</th>
                <th scope="col">Description</th>
                <th scope="col">Instance name</th>
                <th scope="col">Registrations</th>
                <th scope="col">Expires</th>
                <th scope="col">Tags</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.ActivationList.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No activation yet.
                  </td>
                </tr>
              )}
              {list.data.ActivationList.map((activation) => (
                <tr key={activation.ActivationId}>
                  <td className="mono">{activation.ActivationId}</td>
                  <td>{activation.Description ?? ''}</td>
                  <td>{activation.DefaultInstanceName ?? ''}</td>
                  <td>
                    {activation.RegistrationsCount} of {activation.RegistrationLimit}
                  </td>
                  <td>{activation.Expired ? 'Expired' : new Date(activation.ExpirationDate * 1000).toLocaleString()}</td>
                  <td>{formatTags(activation.Tags ?? [])}</td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Delete activation ${activation.ActivationId}`}
                      onClick={() => {
                        setDone('');
                        void remove.run({ ActivationId: activation.ActivationId }).then((result) => {
                          if (result === undefined) return;
                          setDone(`Activation ${activation.ActivationId} is deleted: its code registers nothing more. Instances registered with it stay.`);
                          list.reload();
                        });
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function CreateActivation({ onCreated }: { onCreated: (created: Created) => void }): ReactNode {
  const create = useAction(fleet.CreateActivation);
  const [role, setRole] = useState('SSMServiceRole');
  const [description, setDescription] = useState('');
  const [instanceName, setInstanceName] = useState('');
  const [limit, setLimit] = useState('1');
  const [days, setDays] = useState('1');
  const [tags, setTags] = useState('');
  const [problem, setProblem] = useState<unknown>(undefined);
  const submit = async (): Promise<void> => {
    setProblem(undefined);
    let parsed;
    try {
      parsed = parseTags(tags);
    } catch (failure) {
      setProblem(failure);
      return;
    }
    const result = await create.run({
      IamRole: role.trim(),
      RegistrationLimit: Number(limit),
      ExpirationDate: Math.floor(Date.now() / 1000) + Number(days) * DAY,
      ...(description.trim() === '' ? {} : { Description: description.trim() }),
      ...(instanceName.trim() === '' ? {} : { DefaultInstanceName: instanceName.trim() }),
      ...(parsed.length === 0 ? {} : { Tags: parsed }),
    });
    if (result !== undefined) onCreated({ id: result.ActivationId, code: result.ActivationCode });
  };
  return (
    <section aria-labelledby="create-activation-heading">
      <h2 id="create-activation-heading">Create an activation</h2>
      <Form label="Create an activation" onSubmit={submit}>
        <TextField label="IAM role" value={role} onValue={setRole} required hint="Recorded on the instances, as AWS's service role." />
        <TextField label="Description" value={description} onValue={setDescription} autoComplete="off" />
        <TextField label="Default instance name" value={instanceName} onValue={setInstanceName} autoComplete="off" />
        <TextField label="Registration limit" type="number" min={1} max={1000} value={limit} onValue={setLimit} required />
        <TextField label="Valid for (days)" type="number" min={1} max={fleet.MAX_ACTIVATION_DAYS} value={days} onValue={setDays} required />
        <TextAreaField label="Tags (key=value, one a line)" rows={3} value={tags} onValue={setTags} />
        <SubmitButton pending={create.pending}>Create activation</SubmitButton>
      </Form>
      <ErrorMessage error={problem ?? create.error} />
    </section>
  );
}

/** The code exists only here: the server keeps its hash. */
function ShownOnce({ created }: { created: Created }): ReactNode {
  const endpoint = window.location.origin;
  const command = `sudo airlock-agent register --endpoint-url ${endpoint} --id ${created.id} --code ${created.code}\nsudo airlock-agent run`;
  return (
    <section aria-labelledby="created-heading" className="panel">
      <h2 id="created-heading">Activation created</h2>
      <Done>Copy the code now: it is shown only this once, and Airlock keeps only its hash.</Done>
      <CopyBox label="Activation code" text={created.code} />
      <CopyBox label="Activation id" text={created.id} />
      <CopyBox label="On the server, as root" text={command} />
    </section>
  );
}
