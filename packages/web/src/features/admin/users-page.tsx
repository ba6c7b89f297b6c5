/**
 * Users (identitystore:*): search, create with an invitation mailed (or a one-time password shown
 * once), reset a password, group memberships, delete. A call the role session may not make
 * shows the API's denial in plain words.
 */
import { identitystore } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useAction, useLoad, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { emailOf, fullName, listAllGroups, listAllUsers, type Group, type User } from './directory';
import { CopyBox, Done, SelectField } from './parts';
import './admin.css';

function matches(user: User, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === '') return true;
  return [user.UserName, fullName(user), emailOf(user)].some((text) => text?.toLowerCase().includes(needle) === true);
}

export function UsersPage(): ReactNode {
  const directory = useLoad(async () => ({ users: await listAllUsers(), groups: await listAllGroups() }), 'directory');
  const [search, setSearch] = useState('');
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  // The last deletion; the create form, keyed by the count, starts afresh after one (its message was of before).
  const [deleted, setDeleted] = useState({ text: '', count: 0 });
  if (directory.error !== undefined) return <ErrorMessage error={directory.error} />;
  if (directory.data === undefined) return <Loading what="the users" />;
  const { users, groups } = directory.data;
  const shown = users.filter((user) => matches(user, search));
  const selected = users.find((user) => user.UserId === chosen);
  return (
    <>
      <Done>{deleted.text}</Done>
      <CreateUser
        key={deleted.count}
        onCreated={() => {
          setDeleted((last) => ({ ...last, text: '' }));
          directory.reload();
        }}
      />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        <TextField label="Search users" type="search" value={search} onValue={setSearch} hint="User name, name or email." />
        <p role="status">
          {shown.length} of {users.length} users
        </p>
        <table>
          <caption className="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th scope="col">User name</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((user) => (
              <tr key={user.UserId}>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    aria-expanded={chosen === user.UserId}
                    onClick={() => {
                      setChosen(chosen === user.UserId ? undefined : user.UserId);
                    }}
                  >
                    {user.UserName ?? user.UserId}
                  </button>
                </td>
                <td>{fullName(user)}</td>
                <td>{emailOf(user) ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selected !== undefined && (
        <UserDetails
          key={selected.UserId}
          user={selected}
          groups={groups}
          onDeleted={() => {
            setChosen(undefined);
            setDeleted((last) => ({ text: `${selected.UserName ?? selected.UserId} was deleted.`, count: last.count + 1 }));
            directory.reload();
          }}
        />
      )}
    </>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }): ReactNode {
  const create = useAction(identitystore.CreateUser);
  const [userName, setUserName] = useState('');
  const [givenName, setGivenName] = useState('');
  const [familyName, setFamilyName] = useState('');
  const [email, setEmail] = useState('');
  const [setup, setSetup] = useState<'EMAIL_INVITATION' | 'ONE_TIME_PASSWORD'>('EMAIL_INVITATION');
  const [result, setResult] = useState<{ text: string; oneTimePassword?: string } | undefined>(undefined);
  const submit = async (): Promise<void> => {
    setResult(undefined);
    const displayName = [givenName.trim(), familyName.trim()].filter((part) => part !== '').join(' ');
    const created = await create.run({
      UserName: userName.trim(),
      ...(givenName.trim() === '' && familyName.trim() === '' ? {} : { Name: { ...(givenName.trim() === '' ? {} : { GivenName: givenName.trim() }), ...(familyName.trim() === '' ? {} : { FamilyName: familyName.trim() }) } }),
      ...(displayName === '' ? {} : { DisplayName: displayName }),
      ...(email.trim() === '' ? {} : { Emails: [{ Value: email.trim(), Primary: true }] }),
      PasswordSetup: setup,
    });
    if (created === undefined) return;
    setResult(
      created.OneTimePassword === undefined
        ? { text: `${userName.trim()} was created. An invitation to set a password went to ${email.trim()}; the link works once, for 7 days.` }
        : { text: `${userName.trim()} was created. Give them this one-time password in person; they choose their own at the first sign-in.`, oneTimePassword: created.OneTimePassword },
    );
    setUserName('');
    setGivenName('');
    setFamilyName('');
    setEmail('');
    onCreated();
  };
  return (
    <section aria-labelledby="create-user-heading">
      <h2 id="create-user-heading">Create a user</h2>
      <Form onSubmit={submit} label="Create a user">
        <TextField label="User name" value={userName} onValue={setUserName} required autoComplete="off" hint="Cannot change later. No spaces." />
        <TextField label="Given name" value={givenName} onValue={setGivenName} autoComplete="off" />
        <TextField label="Family name" value={familyName} onValue={setFamilyName} autoComplete="off" />
        <TextField label="Email" type="email" value={email} onValue={setEmail} required={setup === 'EMAIL_INVITATION'} autoComplete="off" />
        <SelectField
          label="Password"
          value={setup}
          onValue={(value) => {
            setSetup(value === 'ONE_TIME_PASSWORD' ? 'ONE_TIME_PASSWORD' : 'EMAIL_INVITATION');
          }}
          options={[
            { value: 'EMAIL_INVITATION', label: 'Mail an invitation to set a password' },
            { value: 'ONE_TIME_PASSWORD', label: 'Show a one-time password to give in person' },
          ]}
        />
        <SubmitButton pending={create.pending}>Create user</SubmitButton>
      </Form>
      <ErrorMessage error={create.error} labels={{ UserName: 'User name', 'Name.GivenName': 'Given name', 'Name.FamilyName': 'Family name', 'Emails[0].Value': 'Email' }} />
      {result !== undefined && <Done>{result.text}</Done>}
      {result?.oneTimePassword !== undefined && <CopyBox label="One-time password" text={result.oneTimePassword} />}
    </section>
  );
}

function UserDetails({ user, groups, onDeleted }: { user: User; groups: readonly Group[]; onDeleted: () => void }): ReactNode {
  const name = user.UserName ?? user.UserId;
  const memberships = useLoad(
    async () =>
      (await call(identitystore.ListGroupMembershipsForMember, { MemberId: { UserId: user.UserId } })).GroupMemberships.map((membership) => ({
        membershipId: membership.MembershipId ?? '',
        group: groups.find((group) => group.GroupId === membership.GroupId),
      })),
    user.UserId,
  );
  const reset = useAction(identitystore.ResetUserPassword);
  const addMembership = useAction(identitystore.CreateGroupMembership);
  const removeMembership = useAction(identitystore.DeleteGroupMembership);
  const remove = useAction(identitystore.DeleteUser);
  const [done, setDone] = useState('');
  const [oneTimePassword, setOneTimePassword] = useState<string | undefined>(undefined);
  const [groupToAdd, setGroupToAdd] = useState('');
  const member = new Set(memberships.data?.map((entry) => entry.group?.GroupId));
  const joinable = groups.filter((group) => !member.has(group.GroupId));
  const email = emailOf(user);

  const resetPassword = async (mode: 'EMAIL' | 'ONE_TIME_PASSWORD'): Promise<void> => {
    setDone('');
    setOneTimePassword(undefined);
    const result = await reset.run({ UserId: user.UserId, Mode: mode });
    if (result === undefined) return;
    if (mode === 'EMAIL') setDone(`A link to choose a new password went to ${email ?? name}; it works once, for 24 hours. ${name}'s sessions have ended.`);
    else {
      setDone(`${name} has a new one-time password; they choose their own at the next sign-in. Their sessions have ended.`);
      setOneTimePassword(result.OneTimePassword);
    }
  };

  return (
    <section aria-labelledby="user-heading" className="panel">
      <h2 id="user-heading">{name}</h2>
      <dl className="facts">
        <dt>User id</dt>
        <dd className="mono">{user.UserId}</dd>
        <dt>Name</dt>
        <dd>{fullName(user)}</dd>
        <dt>Email</dt>
        <dd>{email ?? 'none'}</dd>
      </dl>

      <h3>Password</h3>
      <div className="actions">
        <button type="button" disabled={reset.pending || email === undefined} onClick={() => void resetPassword('EMAIL')}>
          Mail {name} a password reset link
        </button>
        <button type="button" disabled={reset.pending} onClick={() => void resetPassword('ONE_TIME_PASSWORD')}>
          Give {name} a one-time password
        </button>
      </div>
      <ErrorMessage error={reset.error} />
      <Done>{done}</Done>
      {oneTimePassword !== undefined && <CopyBox label="One-time password" text={oneTimePassword} />}

      <h3>Groups</h3>
      <ErrorMessage error={memberships.error ?? addMembership.error ?? removeMembership.error} />
      {memberships.data === undefined && memberships.error === undefined && <Loading what="the groups" />}
      {memberships.data !== undefined && (
        <ul className="plain-list">
          {memberships.data.length === 0 && <li className="muted">In no group.</li>}
          {memberships.data.map((entry) => (
            <li key={entry.membershipId}>
              {entry.group?.DisplayName ?? 'a deleted group'}{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove ${name} from ${entry.group?.DisplayName ?? 'the group'}`}
                onClick={() =>
                  void removeMembership.run({ MembershipId: entry.membershipId }).then((result) => {
                    if (result !== undefined) memberships.reload();
                  })
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {joinable.length > 0 && (
        <Form
          label={`Add ${name} to a group`}
          onSubmit={async () => {
            const groupId = groupToAdd === '' ? joinable[0]?.GroupId : groupToAdd;
            if (groupId === undefined) return;
            if ((await addMembership.run({ GroupId: groupId, MemberId: { UserId: user.UserId } })) !== undefined) {
              setGroupToAdd('');
              memberships.reload();
            }
          }}
        >
          <SelectField label="Add to group" value={groupToAdd === '' ? (joinable[0]?.GroupId ?? '') : groupToAdd} onValue={setGroupToAdd} options={joinable.map((group) => ({ value: group.GroupId, label: group.DisplayName ?? group.GroupId }))} />
          <SubmitButton pending={addMembership.pending}>Add to group</SubmitButton>
        </Form>
      )}

      <UserMfaDevices user={user} />

      <h3>Delete</h3>
      <p>Deleting {name} removes their memberships, MFA devices and sessions.</p>
      <button
        type="button"
        className="danger"
        disabled={remove.pending}
        onClick={() => {
          if (!window.confirm(`Delete ${name}?`)) return;
          void remove.run({ UserId: user.UserId }).then((result) => {
            if (result !== undefined) onDeleted();
          });
        }}
      >
        Delete {name}
      </button>
      <ErrorMessage error={remove.error} />
    </section>
  );
}

/** A user's MFA devices (authenticator apps, security keys): an administrator removes a lost one. */
function UserMfaDevices({ user }: { user: User }): ReactNode {
  const name = user.UserName ?? user.UserId;
  const devices = useOperation(identitystore.ListMfaDevicesForUser, { UserId: user.UserId });
  const remove = useAction(identitystore.DeleteMfaDeviceForUser);
  const [done, setDone] = useState('');
  return (
    <>
      <h3>MFA devices</h3>
      <ErrorMessage error={devices.error ?? remove.error} />
      {devices.data === undefined && devices.error === undefined && <Loading what="the MFA devices" />}
      {devices.data !== undefined && (
        <ul className="plain-list">
          {devices.data.Devices.length === 0 && <li className="muted">No MFA device: sign-in goes as the MFA settings say for users without one.</li>}
          {devices.data.Devices.map((device) => (
            <li key={device.DeviceId}>
              {device.FriendlyDeviceName} ({device.Type === 'SECURITY_KEY' ? 'security key' : 'authenticator app'}), added {new Date(device.CreatedDate * 1000).toLocaleDateString()}
              {device.LastUsedDate === undefined ? '' : `, last used ${new Date(device.LastUsedDate * 1000).toLocaleString()}`}{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove ${name}'s ${device.FriendlyDeviceName}`}
                onClick={() => {
                  setDone('');
                  void remove.run({ UserId: user.UserId, DeviceId: device.DeviceId }).then((result) => {
                    if (result === undefined) return;
                    setDone(`${device.FriendlyDeviceName} is removed from ${name}.`);
                    devices.reload();
                  });
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <Done>{done}</Done>
    </>
  );
}
