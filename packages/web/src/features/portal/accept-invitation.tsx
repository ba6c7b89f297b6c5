/**
 * The link in an invitation (or password-reset) mail: `…/portal/accept-invitation?token=…`.
 * The token is taken out of the address bar at once, so it stays out of history and screenshots.
 */
import { portal } from '@airlock/protocol';
import { useEffect, useState, type ReactNode } from 'react';
import { call, useAction, useLoad } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, Loading, SubmitButton } from '../../app/forms';
import { formatTime } from '../common/time';
import { Link, type PageProps } from '../../app/router';
import { NewPasswordFields, usePasswordPair } from './new-password';

export function AcceptInvitationPage({ query }: PageProps): ReactNode {
  const [token] = useState(query.get('token') ?? '');
  useEffect(() => {
    if (window.location.search !== '') window.history.replaceState(null, '', window.location.pathname);
  }, []);
  const pair = usePasswordPair();
  const accept = useAction(portal.AcceptInvitation);
  // Whose link, asked at once: a used or expired one says so before a password is typed.
  const invitation = useLoad(() => (token === '' ? Promise.resolve(undefined) : call(portal.DescribeInvitation, { InvitationToken: token })), token);
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
  if (invitation.error !== undefined) return <ErrorMessage error={invitation.error} />;
  if (invitation.data === undefined) return <Loading what="your invitation" />;
  const submit = async (): Promise<void> => {
    if (!pair.check()) return;
    const answer = await accept.run({ InvitationToken: token, Password: pair.password });
    if (answer !== undefined) setUserName(answer.UserName);
  };
  return (
    <Form onSubmit={submit} label="Set your password">
      <p>
        Choose a password for <strong>{invitation.data.UserName}</strong>. This link works once, until {formatTime(invitation.data.ExpiresAt)}.
      </p>
      <NewPasswordFields pair={pair} />
      <ErrorMessage error={accept.error} />
      <SubmitButton pending={accept.pending}>Set password</SubmitButton>
    </Form>
  );
}
