/**
 * Event rules (events:*): the rules, creating or replacing one (its pattern is checked by the
 * server), and for the chosen rule its targets (webhook URL or mailto:) and recent deliveries.
 */
import { events } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { CopyBox, Done, SelectField, TextAreaField } from './parts';
import './admin.css';

const EXAMPLE_PATTERN = JSON.stringify({ source: ['aws.ssm'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventName: ['StartSession'] } }, null, 2);

export function EventRulesPage(): ReactNode {
  const rules = useOperation(events.ListRules, {});
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  return (
    <>
      <PutRule
        onSaved={(name) => {
          setChosen(name);
          rules.reload();
        }}
      />
      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Rules</h2>
        <ErrorMessage error={rules.error} />
        {rules.data === undefined && rules.error === undefined && <Loading what="the rules" />}
        {rules.data !== undefined && (
          <table>
            <caption className="visually-hidden">Event rules</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Description</th>
                <th scope="col">Pattern</th>
              </tr>
            </thead>
            <tbody>
              {rules.data.Rules.length === 0 && (
                <tr>
                  <td colSpan={4} className="muted">
                    No rule yet: create one below.
                  </td>
                </tr>
              )}
              {rules.data.Rules.map((rule) => (
                <tr key={rule.Name}>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      aria-expanded={chosen === rule.Name}
                      onClick={() => {
                        setChosen(chosen === rule.Name ? undefined : rule.Name);
                      }}
                    >
                      {rule.Name}
                    </button>
                  </td>
                  <td>{rule.State}</td>
                  <td>{rule.Description ?? ''}</td>
                  <td>
                    <code>{rule.EventPattern}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {chosen !== undefined && (
        <section aria-labelledby="rule-heading" className="panel" key={chosen}>
          <h2 id="rule-heading">{chosen}</h2>
          <Targets rule={chosen} />
          <Deliveries rule={chosen} />
          <DeleteRule
            rule={chosen}
            onDeleted={() => {
              setChosen(undefined);
              rules.reload();
            }}
          />
        </section>
      )}
    </>
  );
}

function PutRule({ onSaved }: { onSaved: (name: string) => void }): ReactNode {
  const put = useAction(events.PutRule);
  const [name, setName] = useState('');
  const [pattern, setPattern] = useState(EXAMPLE_PATTERN);
  const [description, setDescription] = useState('');
  const [state, setState] = useState<'ENABLED' | 'DISABLED'>('ENABLED');
  const [done, setDone] = useState('');
  return (
    <section aria-labelledby="put-rule-heading">
      <h2 id="put-rule-heading">Create or replace a rule</h2>
      <Form
        label="Create or replace a rule"
        onSubmit={async () => {
          setDone('');
          const result = await put.run({ Name: name.trim(), EventPattern: pattern, State: state, ...(description.trim() === '' ? {} : { Description: description.trim() }) });
          if (result === undefined) return;
          setDone(`Rule ${name.trim()} is saved (${result.RuleArn}).`);
          onSaved(name.trim());
        }}
      >
        <TextField label="Rule name" value={name} onValue={setName} required autoComplete="off" hint="Letters, digits, . - and _. A rule of the same name is replaced." />
        <TextAreaField label="Event pattern (JSON)" className="policy-text" rows={8} value={pattern} onValue={setPattern} />
        <TextField label="Rule description" value={description} onValue={setDescription} autoComplete="off" />
        <SelectField
          label="State"
          value={state}
          onValue={(value) => {
            setState(value === 'DISABLED' ? 'DISABLED' : 'ENABLED');
          }}
          options={events.RULE_STATES.map((value) => ({ value, label: value === 'ENABLED' ? 'Enabled' : 'Disabled' }))}
        />
        <SubmitButton pending={put.pending}>Save rule</SubmitButton>
      </Form>
      <ErrorMessage error={put.error} labels={{ Name: 'Rule name', EventPattern: 'Event pattern', Description: 'Rule description' }} />
      <Done>{done}</Done>
    </section>
  );
}

function Targets({ rule }: { rule: string }): ReactNode {
  const targets = useOperation(events.ListTargetsByRule, { Rule: rule });
  const put = useAction(events.PutTargets);
  const remove = useAction(events.RemoveTargets);
  const [id, setId] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [secret, setSecret] = useState<string | undefined>(undefined);
  return (
    <section aria-labelledby="targets-heading">
      <h3 id="targets-heading">Targets</h3>
      <ErrorMessage error={targets.error ?? put.error ?? remove.error} />
      {targets.data === undefined && targets.error === undefined && <Loading what="the targets" />}
      {targets.data !== undefined && (
        <ul className="plain-list">
          {targets.data.Targets.length === 0 && <li className="muted">No targets: matching events go nowhere.</li>}
          {targets.data.Targets.map((target) => (
            <li key={target.Id}>
              <strong>{target.Id}</strong> <code>{target.Arn}</code>{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove target ${target.Id}`}
                onClick={() =>
                  void remove.run({ Rule: rule, Ids: [target.Id] }).then((result) => {
                    if (result !== undefined) targets.reload();
                  })
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <Form
        label={`Add a target to ${rule}`}
        onSubmit={async () => {
          setSecret(undefined);
          const result = await put.run({ Rule: rule, Targets: [{ Id: id.trim(), Arn: endpoint.trim() }] });
          if (result === undefined) return;
          setSecret(result.SigningSecrets?.[0]?.SigningSecret);
          setId('');
          setEndpoint('');
          targets.reload();
        }}
      >
        <TextField label="Target id" value={id} onValue={setId} required autoComplete="off" />
        <TextField label="Webhook URL or mailto:address" value={endpoint} onValue={setEndpoint} required autoComplete="off" hint="https://… receives each event as JSON, signed; mailto:a@example.com mails it." />
        <SubmitButton pending={put.pending}>Add target</SubmitButton>
      </Form>
      {secret !== undefined && (
        <>
          <Done>The webhook&rsquo;s signing secret is shown only this once: keep it to check the x-airlock-signature header.</Done>
          <CopyBox label="Signing secret" text={secret} />
        </>
      )}
    </section>
  );
}

function Deliveries({ rule }: { rule: string }): ReactNode {
  const deliveries = useOperation(events.ListRuleDeliveries, { Rule: rule, Limit: 20 });
  return (
    <section aria-labelledby="deliveries-heading">
      <h3 id="deliveries-heading">Recent deliveries</h3>
      <button type="button" onClick={deliveries.reload}>
        Refresh deliveries
      </button>
      <ErrorMessage error={deliveries.error} />
      {deliveries.data === undefined && deliveries.error === undefined && <Loading what="the deliveries" />}
      {deliveries.data !== undefined &&
        (deliveries.data.Deliveries.length === 0 ? (
          <p className="muted">No deliveries yet.</p>
        ) : (
          <table>
            <caption className="visually-hidden">Recent deliveries of {rule}</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.Deliveries.map((delivery) => (
                <tr key={delivery.DeliveryId}>
                  <td>
                    {delivery.DetailType} <span className="muted">{new Date(delivery.EventTime * 1000).toLocaleString()}</span>
                  </td>
                  <td>{delivery.TargetId}</td>
                  <td>{delivery.Status}</td>
                  <td>{delivery.Attempts}</td>
                  <td>{delivery.LastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

function DeleteRule({ rule, onDeleted }: { rule: string; onDeleted: () => void }): ReactNode {
  const remove = useAction(events.DeleteRule);
  return (
    <section aria-labelledby="delete-rule-heading">
      <h3 id="delete-rule-heading">Delete</h3>
      <button
        type="button"
        className="danger"
        disabled={remove.pending}
        onClick={() => {
          if (!window.confirm(`Delete rule ${rule}?`)) return;
          void remove.run({ Name: rule }).then((result) => {
            if (result !== undefined) onDeleted();
          });
        }}
      >
        Delete rule {rule}
      </button>
      <ErrorMessage error={remove.error} />
    </section>
  );
}
