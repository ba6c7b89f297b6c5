/**
 * Session Manager: choose a target and start a shell on it in a new tab. Only the targets the
 * caller's policies allow (and whose agent is online) can be chosen; each of the others says
 * what stands in the way. For the chosen target, the CLI's commands for port forwarding and
 * SSH, with the values filled in.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import '../common/console.css';
import { ErrorMessage } from '../../app/errors';
import { Loading, TextField } from '../../app/forms';
import { sessionTargets, type Target } from './targets';

function useTargets(): { targets: Target[] | undefined; error: unknown; reload: () => void } {
  const [targets, setTargets] = useState<Target[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    sessionTargets().then(
      (found) => {
        if (current) setTargets(found);
      },
      (failure: unknown) => {
        if (current) setError(failure);
      },
    );
    return () => {
      current = false;
    };
  }, [generation]);
  return {
    targets,
    error,
    reload: () => {
      setGeneration((value) => value + 1);
    },
  };
}

function TargetRow({ target, chosen, onChoose }: { target: Target; chosen: boolean; onChoose: () => void }): ReactNode {
  const id = useId();
  const { instance } = target;
  const name = instance.Name ?? instance.ComputerName ?? instance.InstanceId;
  return (
    <li className={`target${target.allowed ? '' : ' target-denied'}`} {...(target.reason === undefined ? {} : { title: target.reason })}>
      <input type="radio" name="target" id={id} value={instance.InstanceId} checked={chosen} disabled={!target.allowed} onChange={onChoose} {...(target.reason === undefined ? {} : { 'aria-describedby': `${id}-why` })} />
      <label htmlFor={id}>
        <span className="target-name">{name}</span> <span className="mono">{instance.InstanceId}</span>{' '}
        <span className={`ping ping-${instance.PingStatus}`}>{instance.PingStatus}</span> <span className="muted">{instance.PlatformName ?? ''}</span>
      </label>
      {target.reason !== undefined && (
        <p className="target-why" id={`${id}-why`}>
          Not available: {target.reason}
        </p>
      )}
    </li>
  );
}

function CliInstructions({ target }: { target: string }): ReactNode {
  const endpoint = window.location.origin;
  return (
    <section aria-labelledby="cli-heading">
      <h2 id="cli-heading">From your terminal</h2>
      <p>
        With the <code>airlock</code> CLI signed in (<code>airlock login --endpoint-url {endpoint}</code>):
      </p>
      <dl className="commands">
        <dt>A shell</dt>
        <dd>
          <pre>airlock ssm start-session --target {target}</pre>
        </dd>
        <dt>Port forwarding: the instance&rsquo;s port 80 on localhost:8080</dt>
        <dd>
          <pre>
            airlock ssm start-session --target {target} --document-name AWS-StartPortForwardingSession --parameters portNumber=80,localPortNumber=8080
          </pre>
        </dd>
        <dt>SSH through the session (in ~/.ssh/config)</dt>
        <dd>
          <pre>
            {`Host ${target}\n  ProxyCommand airlock ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p`}
          </pre>
        </dd>
      </dl>
    </section>
  );
}

export function SessionManagerPage(): ReactNode {
  const { targets, error, reload } = useTargets();
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [reason, setReason] = useState('');
  const start = (): void => {
    if (chosen === undefined) return;
    const query = new URLSearchParams({ target: chosen, ...(reason.trim() === '' ? {} : { reason: reason.trim() }) });
    window.open(`/console/session-manager/terminal?${query.toString()}`, '_blank', 'noopener');
  };
  return (
    <>
      <section aria-labelledby="start-heading">
        <h2 id="start-heading">Start a session</h2>
        <ErrorMessage error={error} />
        {targets === undefined && error === undefined && <Loading what="the instances" />}
        {targets !== undefined && (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              start();
            }}
          >
            <fieldset>
              <legend>Target instance</legend>
              {targets.length === 0 ? (
                <p>No instances are registered in this account.</p>
              ) : (
                <ul className="targets">
                  {targets.map((target) => (
                    <TargetRow
                      key={target.instance.InstanceId}
                      target={target}
                      chosen={chosen === target.instance.InstanceId}
                      onChoose={() => {
                        setChosen(target.instance.InstanceId);
                      }}
                    />
                  ))}
                </ul>
              )}
            </fieldset>
            <TextField label="Reason (optional)" value={reason} onValue={setReason} maxLength={256} hint="Kept with the session and in the audit trail." />
            <button type="submit" className="primary" disabled={chosen === undefined}>
              Start session
            </button>{' '}
            <button type="button" onClick={reload}>
              Refresh
            </button>
            <p className="hint">The terminal opens in a new tab.</p>
          </form>
        )}
      </section>
      {chosen !== undefined && <CliInstructions target={chosen} />}
    </>
  );
}
