/** Who has a permission set in which account (sso:*AccountAssignment*): list, add, remove. */
import { organizations, ssoAdmin } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useAction, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton } from '../../app/forms';
import { listAllGroups, listAllUsers } from './directory';
import { Done, SelectField } from './parts';

interface Row {
  readonly accountId: string;
  readonly accountName: string;
  readonly principalType: 'USER' | 'GROUP';
  readonly principalId: string;
  readonly principalName: string;
}

async function load(arn: string) {
  const [accounts, users, groups] = await Promise.all([call(organizations.ListAccounts, {}), listAllUsers(), listAllGroups()]);
  const names = new Map<string, string>([...users.map((user) => [user.UserId, user.UserName ?? user.UserId] as const), ...groups.map((group) => [group.GroupId, group.DisplayName ?? group.GroupId] as const)]);
  const rows: Row[] = [];
  for (const account of accounts.Accounts) {
    const { AccountAssignments } = await call(ssoAdmin.ListAccountAssignments, { AccountId: account.Id, PermissionSetArn: arn });
    for (const assignment of AccountAssignments) {
      rows.push({ accountId: account.Id, accountName: account.Name, principalType: assignment.PrincipalType, principalId: assignment.PrincipalId, principalName: names.get(assignment.PrincipalId) ?? assignment.PrincipalId });
    }
  }
  return { accounts: accounts.Accounts, users, groups, rows };
}

export function Assignments({ arn, name }: { arn: string; name: string }): ReactNode {
  const data = useLoad(() => load(arn), arn);
  const create = useAction(ssoAdmin.CreateAccountAssignment);
  const remove = useAction(ssoAdmin.DeleteAccountAssignment);
  const [account, setAccount] = useState('');
  const [principal, setPrincipal] = useState('');
  const [done, setDone] = useState('');
  if (data.error !== undefined) return <ErrorMessage error={data.error} />;
  if (data.data === undefined) return <Loading what="the assignments" />;
  const { accounts, users, groups, rows } = data.data;
  const principals = [
    ...groups.map((group) => ({ value: `GROUP:${group.GroupId}`, label: `Group ${group.DisplayName ?? group.GroupId}` })),
    ...users.map((user) => ({ value: `USER:${user.UserId}`, label: `User ${user.UserName ?? user.UserId}` })),
  ];
  const chosenAccount = account === '' ? (accounts[0]?.Id ?? '') : account;
  const chosenPrincipal = principal === '' ? (principals[0]?.value ?? '') : principal;
  const assign = async (): Promise<void> => {
    setDone('');
    const [type, id = ''] = chosenPrincipal.split(':');
    const principalType = type === 'GROUP' ? 'GROUP' : 'USER';
    const result = await create.run({ TargetId: chosenAccount, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: principalType, PrincipalId: id });
    if (result === undefined) return;
    setDone(`${principals.find((entry) => entry.value === chosenPrincipal)?.label ?? id} has ${name} in account ${chosenAccount} (${result.AccountAssignmentCreationStatus.Status}).`);
    data.reload();
  };
  return (
    <section aria-labelledby="assignments-heading">
      <h3 id="assignments-heading">Assignments</h3>
      {rows.length === 0 ? (
        <p className="muted">Nobody has {name} in any account yet.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Who has {name}</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Principal</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={`${row.accountId}:${row.principalId}`}>
                <td>
                  {row.accountName} <span className="mono">{row.accountId}</span>
                </td>
                <td>
                  {row.principalType === 'GROUP' ? 'Group' : 'User'} {row.principalName}
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Remove ${name} from ${row.principalName} in ${row.accountId}`}
                    onClick={() =>
                      void remove.run({ TargetId: row.accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: row.principalType, PrincipalId: row.principalId }).then((result) => {
                        if (result !== undefined) data.reload();
                      })
                    }
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Form label={`Assign ${name}`} onSubmit={assign}>
        <SelectField label="Account" value={chosenAccount} onValue={setAccount} options={accounts.map((entry) => ({ value: entry.Id, label: `${entry.Name} (${entry.Id})` }))} />
        <SelectField label="User or group" value={chosenPrincipal} onValue={setPrincipal} options={principals} />
        <SubmitButton pending={create.pending}>Assign</SubmitButton>
      </Form>
      <ErrorMessage error={create.error ?? remove.error} />
      <Done>{done}</Done>
    </section>
  );
}
