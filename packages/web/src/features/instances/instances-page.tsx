/**
 * Instances: every managed node of the account (ssm:DescribeInstanceProperties) with its name,
 * id, ping status, platform and tags (ssm:ListTagsForResource or ec2:DescribeInstances, where
 * the policy allows it),
 * filtered by ping status and searched by name, id, platform or tag.
 */
import { ec2, fleet } from '@airlock/protocol';
import { useEffect, useState, type ReactNode } from 'react';
import '../common/console.css';
import { call } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Loading, TextField } from '../../app/forms';
import { allInstances, type InstanceProperty } from '../sessions/targets';

interface Row {
  readonly instance: InstanceProperty;
  /** Undefined: the policy does not let the caller read them. */
  readonly tags: readonly { Key: string; Value: string }[] | undefined;
}

/** A managed instance's tags are Systems Manager's; a cloud-joined one's are EC2's. */
async function tagsOf(instanceId: string): Promise<readonly { Key: string; Value: string }[]> {
  if (instanceId.startsWith('mi-')) return (await call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId })).TagList;
  const { Reservations } = await call(ec2.DescribeInstances, { InstanceIds: [instanceId] });
  return Reservations.flatMap((reservation) => reservation.Instances).flatMap((instance) => instance.Tags ?? []);
}

async function loadRows(): Promise<Row[]> {
  const instances = await allInstances();
  return Promise.all(
    instances.map(async (instance) => {
      try {
        return { instance, tags: await tagsOf(instance.InstanceId) };
      } catch {
        return { instance, tags: undefined };
      }
    }),
  );
}

function matches(row: Row, search: string, ping: string): boolean {
  if (ping !== '' && row.instance.PingStatus !== ping) return false;
  if (search === '') return true;
  const haystack = [row.instance.Name, row.instance.InstanceId, row.instance.ComputerName, row.instance.PlatformName, ...(row.tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`)];
  const needle = search.toLowerCase();
  return haystack.some((text) => text?.toLowerCase().includes(needle) === true);
}

export function InstancesPage(): ReactNode {
  const [rows, setRows] = useState<Row[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [search, setSearch] = useState('');
  const [ping, setPing] = useState('');
  useEffect(() => {
    let current = true;
    loadRows().then(
      (loaded) => {
        if (current) setRows(loaded);
      },
      (failure: unknown) => {
        if (current) setError(failure);
      },
    );
    return () => {
      current = false;
    };
  }, []);
  if (error !== undefined) return <ErrorMessage error={error} />;
  if (rows === undefined) return <Loading what="the instances" />;
  const shown = rows.filter((row) => matches(row, search.trim(), ping));
  return (
    <>
      <div className="filters">
        <TextField label="Search" type="search" value={search} onValue={setSearch} hint="Name, id, platform or tag (key=value)." />
        <div className="field">
          <label htmlFor="ping-filter">Ping status</label>
          <select
            id="ping-filter"
            value={ping}
            onChange={(event) => {
              setPing(event.target.value);
            }}
          >
            <option value="">Any</option>
            {fleet.PING_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p role="status">
        {shown.length} of {rows.length} instances
      </p>
      <table>
        <caption className="visually-hidden">Managed instances</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Instance id</th>
            <th scope="col">Ping status</th>
            <th scope="col">Platform</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                {rows.length === 0 ? 'No instance is registered yet: create an activation, then run airlock-agent register on the server.' : 'No instance matches the search and filter.'}
              </td>
            </tr>
          )}
          {shown.map(({ instance, tags }) => (
            <tr key={instance.InstanceId}>
              <td>{instance.Name ?? instance.ComputerName ?? ''}</td>
              <td className="mono">{instance.InstanceId}</td>
              <td>
                <span className={`ping ping-${instance.PingStatus}`}>{instance.PingStatus}</span>
              </td>
              <td>{[instance.PlatformName, instance.PlatformVersion].filter((part) => part !== undefined).join(' ')}</td>
              <td>
                {tags === undefined ? (
                  <span className="muted">not visible to you</span>
                ) : (
                  <ul className="tags">
                    {tags.map((tag) => (
                      <li key={tag.Key}>
                        <code>
                          {tag.Key}={tag.Value}
                        </code>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
