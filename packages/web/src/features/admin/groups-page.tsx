/** Groups and their members (identitystore:*): create, add and remove members, delete. */
import { identitystore } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { call, useAction, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton, TextField } from '../../app/forms';
import { listAllGroups, listAllUsers, type Group, type User } from './directory';
import { Done, SelectField } from './parts';
import './admin.css';

export function GroupsPage(): ReactNode {
  const directory = useLoad(async () => ({ users: await listAllUsers(), groups: await listAllGroups() }), 'directory');
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  // The last deletion; the create form, keyed by the count, starts afresh after one (its message was of before).
  const [deleted, setDeleted] = useState({ text: '', count: 0 });
  if (directory.error !== undefined) return <ErrorMessage error={directory.error} />;
  if (directory.data === undefined) return <Loading what="the groups" />;
  const { users, groups } = directory.data;
  const selected = groups.find((group) => group.GroupId === chosen);
  return (
    <>
      <Done>{deleted.text}</Done>
      <CreateGroup
        key={deleted.count}
        onCreated={(groupId) => {
          setDeleted((last) => ({ ...last, text: '' }));
          setChosen(groupId);
          directory.reload();
        }}
      />
      <section aria-labelledby="groups-heading">
        <h2 id="groups-heading">Groups</h2>
        <table>
          <caption className="visually-hidden">Groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={group.GroupId}>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    aria-expanded={chosen === group.GroupId}
                    onClick={() => {
                      setChosen(chosen === group.GroupId ? undefined : group.GroupId);
                    }}
                  >
                    {group.DisplayName ?? group.GroupId}
                  </button>
                </td>
                <td>{group.Description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selected !== undefined && (
        <Members
          key={selected.GroupId}
          group={selected}
          users={users}
          onDeleted={() => {
            setChosen(undefined);
            setDeleted((last) => ({ text: `Group ${selected.DisplayName ?? selected.GroupId} was deleted.`, count: last.count + 1 }));
            directory.reload();
          }}
        />
      )}
    </>
  );
}

function CreateGroup({ onCreated }: { onCreated: (groupId: string) => void }): ReactNode {
  const create = useAction(identitystore.CreateGroup);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [done, setDone] = useState('');
  return (
    <section aria-labelledby="create-group-heading">
      <h2 id="create-group-heading">Create a group</h2>
      <Form
        label="Create a group"
        onSubmit={async () => {
          setDone('');
          const result = await create.run({ DisplayName: name.trim(), ...(description.trim() === '' ? {} : { Description: description.trim() }) });
          if (result === undefined) return;
          setDone(`Group ${name.trim()} was created.`);
          setName('');
          setDescription('');
          onCreated(result.GroupId);
        }}
      >
        <TextField label="Group name" value={name} onValue={setName} required autoComplete="off" />
        <TextField label="Group description" value={description} onValue={setDescription} autoComplete="off" />
        <SubmitButton pending={create.pending}>Create group</SubmitButton>
      </Form>
      <ErrorMessage error={create.error} labels={{ DisplayName: 'Group name', Description: 'Group description' }} />
      <Done>{done}</Done>
    </section>
  );
}

function Members({ group, users, onDeleted }: { group: Group; users: readonly User[]; onDeleted: () => void }): ReactNode {
  const name = group.DisplayName ?? group.GroupId;
  const members = useLoad(async () => (await call(identitystore.ListGroupMemberships, { GroupId: group.GroupId, MaxResults: 100 })).GroupMemberships, group.GroupId);
  const add = useAction(identitystore.CreateGroupMembership);
  const remove = useAction(identitystore.DeleteGroupMembership);
  const removeGroup = useAction(identitystore.DeleteGroup);
  const [choice, setChoice] = useState('');
  const inGroup = new Set(members.data?.map((membership) => membership.MemberId?.UserId));
  const addable = users.filter((user) => !inGroup.has(user.UserId));
  const chosen = choice === '' || !addable.some((user) => user.UserId === choice) ? (addable[0]?.UserId ?? '') : choice;
  const userName = (userId: string | undefined): string => users.find((user) => user.UserId === userId)?.UserName ?? userId ?? '';
  return (
    <section aria-labelledby="group-heading" className="panel">
      <h2 id="group-heading">{name}</h2>
      <h3>Members</h3>
      <ErrorMessage error={members.error ?? add.error ?? remove.error} />
      {members.data === undefined && members.error === undefined && <Loading what="the members" />}
      {members.data !== undefined && (
        <ul className="plain-list">
          {members.data.length === 0 && <li className="muted">No members.</li>}
          {members.data.map((membership) => (
            <li key={membership.MembershipId}>
              {userName(membership.MemberId?.UserId)}{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove ${userName(membership.MemberId?.UserId)} from ${name}`}
                onClick={() =>
                  void remove.run({ MembershipId: membership.MembershipId ?? '' }).then((result) => {
                    if (result !== undefined) members.reload();
                  })
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {addable.length > 0 && (
        <Form
          label={`Add a member to ${name}`}
          onSubmit={async () => {
            if ((await add.run({ GroupId: group.GroupId, MemberId: { UserId: chosen } })) !== undefined) members.reload();
          }}
        >
          <SelectField label="User to add" value={chosen} onValue={setChoice} options={addable.map((user) => ({ value: user.UserId, label: user.UserName ?? user.UserId }))} />
          <SubmitButton pending={add.pending}>Add member</SubmitButton>
        </Form>
      )}
      <h3>Delete</h3>
      <button
        type="button"
        className="danger"
        disabled={removeGroup.pending}
        onClick={() => {
          if (!window.confirm(`Delete group ${name}?`)) return;
          void removeGroup.run({ GroupId: group.GroupId }).then((result) => {
            if (result !== undefined) onDeleted();
          });
        }}
      >
        Delete group {name}
      </button>
      <ErrorMessage error={removeGroup.error} />
    </section>
  );
}
