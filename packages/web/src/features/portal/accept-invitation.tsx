/**
 * The link in an invitation (or password-reset) mail: `…/portal/accept-invitation?token=…`.
 * The token is taken out of the address bar at once, so it stays out of history and screenshots.
 */
import { portal } from '@airlock/protocol';
import { useEffect, useState, type ReactNode } from 'react';
import { useAction } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, SubmitButton } from '../../app/forms';
import { Link, type PageProps } from '../../app/router';
import { NewPasswordFields, usePasswordPair } from './new-password';

export function AcceptInvitationPage({ query }: PageProps): ReactNode {
  const [token] = useState(query.get('token') ?? '');
  useEffect(() => {
    if (window.location.search !== '') window.history.replaceState(null, '', window.location.pathname);
  }, []);
  const pair = usePasswordPair();
  const accept = useAction(portal.AcceptInvitation);
  const [userName, setUserName] = useState<string>();
  if (token === '') {
    return (
      <p role="alert">
        This address has no invitation token. Open the link from your mail again, or ask an administrator for a new one.
      </p>
    );
  }
  if (userName !== undefined) {
    return (
      <p className="notice" role="status">
        Your password is set, {userName}. <Link to={`/portal/sign-in?username=${encodeURIComponent(userName)}`}>Sign in</Link>
      </p>
    );
  }
  const submit = async (): Promise<void> => {
    if (!pair.check()) return;
    const answer = await accept.run({ InvitationToken: token, Password: pair.password });
    if (answer !== undefined) setUserName(answer.UserName);
  };
  return (
    <Form onSubmit={submit} label="Set your password">
      <NewPasswordFields pair={pair} />
      <ErrorMessage error={accept.error} />
      <SubmitButton pending={accept.pending}>Set password</SubmitButton>
    </Form>
  );
}
