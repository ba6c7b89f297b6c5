/**
 * Instance tags: what policies see as ssm:resourceTag/KEY. A managed instance (mi-…) is tagged
 * through ssm:AddTagsToResource / RemoveTagsFromResource, a cloud-joined one (i-…) through
 * ec2:CreateTags / DeleteTags, as AWS does.
 */
import { ec2, fleet } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { instanceLabel, taggedInstances, type Tag, type TaggedInstance } from './instances';
import { Done } from './parts';
import './admin.css';

async function addTag(instanceId: string, tag: Tag): Promise<void> {
  if (instanceId.startsWith('mi-')) await call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: [tag] });
  else await call(ec2.CreateTags, { Resources: [instanceId], Tags: [tag] });
}

async function removeTag(instanceId: string, key: string): Promise<void> {
  if (instanceId.startsWith('mi-')) await call(fleet.RemoveTagsFromResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, TagKeys: [key] });
  else await call(ec2.DeleteTags, { Resources: [instanceId], Tags: [{ Key: key }] });
}

export function InstanceTagsPage(): ReactNode {
  const instances = useLoad(taggedInstances, 'instances');
  if (instances.error !== undefined) return <ErrorMessage error={instances.error} />;
  if (instances.data === undefined) return <Loading what="the instances and their tags" />;
  if (instances.data.length === 0) return <p>No instance is registered yet: create an activation and register an agent with it.</p>;
  return (
    <>
      {instances.data.map((entry) => (
        <InstanceTags key={entry.instance.InstanceId} entry={entry} onChanged={instances.reload} />
      ))}
    </>
  );
}

function InstanceTags({ entry, onChanged }: { entry: TaggedInstance; onChanged: () => void }): ReactNode {
  const { instance, tags } = entry;
  const name = instanceLabel(instance);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [pending, setPending] = useState(false);
  const [done, setDone] = useState('');
  const change = async (what: () => Promise<void>, said: string): Promise<void> => {
    setPending(true);
    setError(undefined);
    setDone('');
    try {
      await what();
      setDone(said);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  const headingId = `tags-${instance.InstanceId}`;
  return (
    <section aria-labelledby={headingId} className="panel">
      <h2 id={headingId}>{name}</h2>
      <ul className="plain-list">
        {tags.length === 0 && <li className="muted">No tags.</li>}
        {tags.map((tag) => (
          <li key={tag.Key}>
            <code>
              {tag.Key}={tag.Value}
            </code>{' '}
            <button type="button" className="link-button" disabled={pending} aria-label={`Remove tag ${tag.Key} from ${name}`} onClick={() => void change(() => removeTag(instance.InstanceId, tag.Key), `Tag ${tag.Key} removed from ${name}.`)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <Form
        label={`Add a tag to ${name}`}
        onSubmit={() =>
          change(async () => {
            await addTag(instance.InstanceId, { Key: key.trim(), Value: value.trim() });
            setKey('');
            setValue('');
          }, `Tag ${key.trim()}=${value.trim()} set on ${name}.`)
        }
      >
        <div className="filters">
          <TextField label={`Tag key for ${instance.InstanceId}`} value={key} onValue={setKey} required autoComplete="off" />
          <TextField label={`Tag value for ${instance.InstanceId}`} value={value} onValue={setValue} autoComplete="off" />
          <SubmitButton pending={pending}>Set tag</SubmitButton>
        </div>
      </Form>
      <ErrorMessage error={error} />
      <Done>{done}</Done>
    </section>
  );
}
