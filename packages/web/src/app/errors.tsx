/**
 * API errors in plain words. A denial names who was refused, the action, the resource and what
 * decided it (a Deny statement, or no statement allowing it); the server's own message and the
 * request id stay available for an administrator.
 */
import { AirlockApiError } from '@airlock/client';
import type { ReactNode } from 'react';
import { Link } from './router';

export interface Explained {
  readonly title: string;
  readonly detail: string;
  /** The server's message, when the detail rewords it. */
  readonly original?: string;
  readonly requestId?: string;
  /** Signed out or expired: the way back is signing in. */
  readonly signIn?: boolean;
}

// The resource runs to the reason (it may hold a space: a Target is whatever was asked for).
const DENIAL = /^User: (\S+) is not authorized to perform: (\S+) on resource: (.+?) ((?:because|with) .+)$/;

/** `arn:aws:sts::1111:assumed-role/AWSReservedSSO_Prod_0123/alice` → `AWSReservedSSO_Prod_0123/alice`. */
export function roleSessionName(arn: string): string {
  const marker = ':assumed-role/';
  const at = arn.indexOf(marker);
  return at < 0 ? arn : arn.slice(at + marker.length);
}

function explainDenial(message: string): Pick<Explained, 'detail' | 'original'> {
  const match = DENIAL.exec(message);
  if (match === null) return { detail: message };
  const [, who = '', action = '', resource = '', because = ''] = match;
  // The server names what decided after AWS's wording: the Deny statements, or the Allow
  // statements that named the action but whose resource or condition did not fit.
  const denied = /^with an explicit deny in an identity-based policy(?:: (.+))?$/.exec(because);
  const unallowed = /^because no identity-based policy allows the \S+ action(?:\. (.+))?$/.exec(because);
  let reason: string;
  if (denied !== null) reason = `a Deny statement forbids it${denied[1] === undefined ? '' : ` (${denied[1]})`}.`;
  else if (unallowed?.[1] !== undefined) reason = `no policy of your permission set allows it. ${unallowed[1]}`;
  else reason = 'no policy of your permission set allows it.';
  const on = resource === '*' ? '' : ` on ${resource}`;
  return { detail: `${roleSessionName(who)} may not perform ${action}${on}: ${reason}`, original: message };
}

/** A failure the page itself found and can word for a person (a form's input, the browser's security key): not a fault. */
export class PageProblem extends Error {
  override readonly name = 'PageProblem';

  constructor(
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a form says when the input is at fault before anything is sent. */
export const inputProblem = (message: string): PageProblem => new PageProblem('Check what you entered', message);

export function explain(error: unknown): Explained {
  if (error instanceof PageProblem) return { title: error.title, detail: error.message };
  if (!(error instanceof AirlockApiError)) {
    return { title: 'Something went wrong in this page', detail: error instanceof Error ? error.message : String(error) };
  }
  const requestId = error.requestId === undefined ? {} : { requestId: error.requestId };
  switch (error.code) {
    case 'AccessDeniedException':
      return { title: 'Access denied', ...explainDenial(error.message), ...requestId };
    case 'UnauthorizedException':
      return { title: 'You are signed out', detail: 'Your session has ended or was never started. Sign in again.', original: error.message, signIn: true, ...requestId };
    case 'NotAuthorizedException':
      return { title: 'Not accepted', detail: error.message, ...requestId };
    case 'CodeMismatchException':
      return { title: /already used/.test(error.message) ? 'Code already used' : 'Wrong code', detail: error.message, ...requestId };
    case 'ThrottlingException':
      return { title: 'Too many attempts', detail: error.message, ...requestId };
    case 'InvalidPasswordException':
      return { title: 'Choose another password', detail: error.message, ...requestId };
    case 'ValidationException':
      return { title: 'Check what you entered', detail: error.message, ...requestId };
    case 'NetworkError':
      return { title: 'The server cannot be reached', detail: `${error.message}. Check your connection and try again.` };
    default:
      return { title: error.code.replace(/(Exception|Error)$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'), detail: error.message, ...requestId };
  }
}

/**
 * A refusal's wording with the API's field names (DisplayName) as the form labels them (Group
 * name), so a person knows which box to fix; the server's own words stay under Details.
 */
export function withLabels(explained: Explained, labels: Readonly<Record<string, string>>): Explained {
  let detail = explained.detail;
  for (const [field, label] of Object.entries(labels)) detail = detail.replace(new RegExp(`\\b${field.replace(/[.[\]]/g, '\\$&')}\\b`, 'g'), label);
  return detail === explained.detail ? explained : { ...explained, detail, original: explained.original ?? explained.detail };
}

/** The error box pages show; nothing when there is no error. Announced to screen readers. `labels`: API field names as the form calls them. */
export function ErrorMessage({ error, labels }: { readonly error: unknown; readonly labels?: Readonly<Record<string, string>> }): ReactNode {
  if (error === undefined || error === null) return null;
  const explained = labels === undefined ? explain(error) : withLabels(explain(error), labels);
  return (
    <div className="error" role="alert">
      <p className="error-title">{explained.title}</p>
      <p>{explained.detail}</p>
      {explained.signIn === true && (
        <p>
          <Link to={`/portal/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`}>Sign in</Link>
        </p>
      )}
      {(explained.original !== undefined || explained.requestId !== undefined) && (
        <details>
          <summary>Details</summary>
          {explained.original !== undefined && <p className="mono">{explained.original}</p>}
          {explained.requestId !== undefined && <p>Request id: <span className="mono">{explained.requestId}</span></p>}
        </details>
      )}
    </div>
  );
}
