/**
 * The portal's start page: the accounts where you have a permission set, each opening to its
 * permission sets; "Management console" starts a role session (kept in an HttpOnly cookie)
 * and opens the console as it.
 */
import { roleSessions } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Loading } from '../../app/forms';
import { navigate } from '../../app/router';

export function AccountsPage(): ReactNode {
  const accounts = useOperation(roleSessions.ListAccounts, {});
  if (accounts.error !== undefined) return <ErrorMessage error={accounts.error} />;
  if (accounts.data === undefined) return <Loading what="your accounts" />;
  if (accounts.data.AccountList.length === 0) {
    return <p>You have no permission set in any account yet. An administrator assigns them.</p>;
  }
  return (
    <ul className="accounts">
      {accounts.data.AccountList.map((account) => (
        <li key={account.AccountId}>
          <Account id={account.AccountId} name={account.AccountName} email={account.EmailAddress} />
        </li>
      ))}
    </ul>
  );
}

function Account({ id, name, email }: { id: string; name: string; email: string }): ReactNode {
  const [open, setOpen] = useState(false);
  const panel = `account-${id}-roles`;
  return (
    <div className="account">
      <h2>
        <button
          type="button"
          className="disclosure"
          aria-expanded={open}
          aria-controls={panel}
          onClick={() => {
            setOpen(!open);
          }}
        >
          <span className="account-name">{name}</span> <span className="mono">{id}</span> <span className="muted">{email}</span>
        </button>
      </h2>
      <div id={panel} hidden={!open}>
        {open && <Roles accountId={id} />}
      </div>
    </div>
  );
}

function Roles({ accountId }: { accountId: string }): ReactNode {
  const roles = useOperation(roleSessions.ListAccountRoles, { AccountId: accountId });
  const start = useAction(roleSessions.GetRoleCredentials);
  if (roles.error !== undefined) return <ErrorMessage error={roles.error} />;
  if (roles.data === undefined) return <Loading what="permission sets" />;
  const open = async (roleName: string): Promise<void> => {
    if ((await start.run({ AccountId: accountId, RoleName: roleName })) !== undefined) navigate('/console');
  };
  return (
    <>
      <ul className="roles">
        {roles.data.RoleList.map((role) => (
          <li key={role.RoleName}>
            <span className="role-name">{role.RoleName}</span>
            <button
              type="button"
              disabled={start.pending}
              aria-label={`Management console as ${role.RoleName}`}
              onClick={() => {
                void open(role.RoleName);
              }}
            >
              Management console
            </button>
          </li>
        ))}
      </ul>
      <ErrorMessage error={start.error} />
    </>
  );
}
