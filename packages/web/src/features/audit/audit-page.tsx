/**
 * Audit: the trail's records, newest first (cloudtrail:LookupEvents), by one attribute
 * (event name, user, resource…) and a time range, a page at a time; each record's whole JSON
 * on demand.
 */
import { cloudtrail, type InputOf } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import '../common/console.css';
import { useOperation } from '../../app/api';
import { ErrorMessage, inputProblem } from '../../app/errors';
import { Loading, TextField } from '../../app/forms';
import { formatTime } from '../common/time';

type Lookup = InputOf<typeof cloudtrail.LookupEvents>;

function seconds(local: string): number | undefined {
  if (local === '') return undefined;
  const time = Date.parse(local);
  return Number.isNaN(time) ? undefined : time / 1000;
}

export function AuditPage(): ReactNode {
  const [key, setKey] = useState<(typeof cloudtrail.LOOKUP_ATTRIBUTE_KEYS)[number]>('EventName');
  const [value, setValue] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [lookup, setLookup] = useState<Lookup>({ MaxResults: 50 });
  const [pages, setPages] = useState<string[]>([]);
  const token = pages[pages.length - 1];
  const found = useOperation(cloudtrail.LookupEvents, token === undefined ? lookup : { ...lookup, NextToken: token });
  const [problem, setProblem] = useState<unknown>(undefined);
  const submit = (): void => {
    const start = seconds(from);
    const end = seconds(to);
    setProblem(undefined);
    if (start !== undefined && end !== undefined && start > end) {
      setProblem(inputProblem('From is after To: choose a From before the To, or leave one empty.'));
      return;
    }
    setPages([]);
    setLookup({
      MaxResults: 50,
      ...(value.trim() === '' ? {} : { LookupAttributes: [{ AttributeKey: key, AttributeValue: value.trim() }] }),
      ...(start === undefined ? {} : { StartTime: start }),
      ...(end === undefined ? {} : { EndTime: end }),
    });
  };
  return (
    <>
      <form
        role="search"
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <div className="field">
          <label htmlFor="audit-key">Attribute</label>
          <select
            id="audit-key"
            value={key}
            onChange={(event) => {
              setKey(event.target.value as typeof key);
            }}
          >
            {cloudtrail.LOOKUP_ATTRIBUTE_KEYS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <TextField label="Value" value={value} onValue={setValue} hint="Empty: every event." />
        <TextField label="From" type="datetime-local" value={from} onValue={setFrom} />
        <TextField label="To" type="datetime-local" value={to} onValue={setTo} />
        <button type="submit" className="primary">
          Look up
        </button>
      </form>
      <ErrorMessage error={problem ?? found.error} />
      {found.loading && <Loading what="events" />}
      {found.data !== undefined && (
        <>
          {found.data.Events.length === 0 ? (
            <p>No event matches.</p>
          ) : (
            <table>
              <caption className="visually-hidden">Audit events</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Event</th>
                  <th scope="col">User</th>
                  <th scope="col">Resources</th>
                  <th scope="col">Record</th>
                </tr>
              </thead>
              <tbody>
                {found.data.Events.map((event) => (
                  <tr key={event.EventId}>
                    <td>{formatTime(event.EventTime)}</td>
                    <td>
                      <span className="mono">{event.EventName}</span> <span className="muted">{event.EventSource}</span>
                    </td>
                    <td>{event.Username ?? ''}</td>
                    <td className="mono">{(event.Resources ?? []).map((resource) => resource.ResourceName ?? '').join(', ')}</td>
                    <td>
                      <details>
                        <summary>JSON</summary>
                        <pre>{JSON.stringify(JSON.parse(event.CloudTrailEvent), null, 2)}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div>
            {pages.length > 0 && (
              <button
                type="button"
                onClick={() => {
                  setPages(pages.slice(0, -1));
                }}
              >
                Newer
              </button>
            )}{' '}
            {found.data.NextToken !== undefined && (
              <button
                type="button"
                onClick={() => {
                  const next = found.data?.NextToken;
                  if (next !== undefined) setPages([...pages, next]);
                }}
              >
                Older
              </button>
            )}
          </div>
        </>
      )}
    </>
  );
}
