/** Changing one's own password (portal:ChangePassword): the current one, then the new one twice. */
import { portal } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, SubmitButton, TextField } from '../../app/forms';
import { usePortalUser } from '../../app/identity';
import { NewPasswordFields, usePasswordPair } from './new-password';

export function ChangePasswordPage(): ReactNode {
  const user = usePortalUser();
  const [current, setCurrent] = useState('');
  const pair = usePasswordPair();
  const change = useAction(portal.ChangePassword);
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <p className="notice" role="status">
        Your password is changed. Use the new one at your next sign-in.
      </p>
    );
  }
  const submit = async (): Promise<void> => {
    if (!pair.check()) return;
    if ((await change.run({ PreviousPassword: current, ProposedPassword: pair.password })) !== undefined) setDone(true);
  };
  return (
    <Form onSubmit={submit} label="Change your password">
      <TextField label="Current password" type="password" value={current} onValue={setCurrent} autoComplete="current-password" required maxLength={256} />
      <NewPasswordFields pair={pair} {...(user === undefined ? {} : { userName: user.UserName })} />
      <ErrorMessage error={change.error} />
      <SubmitButton pending={change.pending}>Change password</SubmitButton>
    </Form>
  );
}
