import type { ReactNode } from 'react';
import { useRoleSession } from '../../app/identity';

/** The console's landing page: who you are working as; the features' pages are in the navigation. */
export function ConsoleHome(): ReactNode {
  const session = useRoleSession();
  return (
    <section aria-labelledby="role-heading">
      <h2 id="role-heading">Your role session</h2>
      <dl className="facts">
        <dt>Role session</dt>
        <dd className="mono">{session.name}</dd>
        <dt>Account</dt>
        <dd>
          {session.accountName ?? ''} <span className="mono">{session.accountId}</span>
        </dd>
        <dt>ARN</dt>
        <dd className="mono">{session.arn}</dd>
      </dl>
      <p>Every call made here is decided by this permission set&rsquo;s policies.</p>
    </section>
  );
}
