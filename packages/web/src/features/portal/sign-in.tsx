/**
 * Signing in: user name and password, then whatever the server asks: a code from the
 * authenticator app (SOFTWARE_TOKEN_MFA), a security key or passkey (WEB_AUTHN), a code it mailed (EMAIL_OTP), registering an app
 * (MFA_SETUP), or a new password (NEW_PASSWORD_REQUIRED). The session ends up in HttpOnly
 * cookies; this page never sees a token. Under an external identity source (docs/federation.md)
 * it offers "Sign in with …", and takes over Airlock's MFA challenge after it (from the fragment).
 */
import { identitySources, portal, type OutputOf } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { CodeField, Form, SubmitButton, TextField } from '../../app/forms';
import { navigate, type PageProps } from '../../app/router';
import { AuthenticatorSetup } from './authenticator-setup';
import { NewPasswordFields, usePasswordPair } from './new-password';
import { SecurityKeyChallenge, SecurityKeyRegistration } from './security-key';

type Step = OutputOf<typeof portal.InitiateAuth>;

/** Only a path of this app: `next` comes from the URL, and must not send people elsewhere. */
export function safeNext(next: string | null): string {
  // Browsers drop tabs and newlines from URLs ("/\t/evil" is "//evil"), and read "\" as "/".
  return next !== null && /^\/(?!\/)[^\\\s]*$/.test(next) && !next.startsWith('/portal/sign-in') ? next : '/portal';
}

/**
 * After an external sign-in, the server sends the browser here with Airlock's MFA challenge in
 * the fragment (never sent to a server): `#challenge=…&session=…&username=…&return_to=…&parameters=…`
 * (the challenge's other parameters, JSON).
 */
function handoffFromFragment(): { step: Step; userName: string; next: string } | undefined {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const challenge = portal.CHALLENGE_NAMES.find((name) => name === fragment.get('challenge'));
  const session = fragment.get('session');
  if (challenge === undefined || session === null) return undefined;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return { step: { ChallengeName: challenge, Session: session, ChallengeParameters: fragmentParameters(fragment.get('parameters')) }, userName: fragment.get('username') ?? '', next: fragment.get('return_to') ?? '/portal' };
}

/** The challenge's parameters from the fragment (JSON of strings); none when absent or malformed. */
function fragmentParameters(text: string | null): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(text ?? '{}');
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

export function SignInPage({ query }: PageProps): ReactNode {
  const [handoff] = useState(handoffFromFragment);
  const [userName, setUserName] = useState(handoff?.userName ?? query.get('username') ?? '');
  const [step, setStep] = useState<Step | undefined>(handoff?.step);
  const [notice, setNotice] = useState<string | undefined>(query.has('signed-out') ? 'You have signed out.' : undefined);
  const next = safeNext(handoff?.next ?? query.get('next'));
  const options = useOperation(identitySources.GetSignInOptions, {});
  const advance = (answer: Step | undefined): void => {
    if (answer === undefined) return;
    setNotice(undefined);
    if (answer.AuthenticationResult !== undefined) navigate(next, { replace: true });
    else setStep(answer);
  };
  const restart = (message: string): void => {
    setStep(undefined);
    setNotice(message);
  };
  return (
    <div className="narrow">
      {notice !== undefined && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {step?.Session === undefined ? (
        <>
          <ExternalSignIn options={options.data} next={next} />
          <PasswordStep userName={userName} setUserName={setUserName} onAnswer={advance} />
        </>
      ) : (
        <ChallengeStep key={step.Session} userName={userName} step={step} session={step.Session} onAnswer={advance} onRestart={restart} />
      )}
    </div>
  );
}

/** The identity source's button (a full-page navigation to it), and what the password form is then for. */
function ExternalSignIn({ options, next }: { options: OutputOf<typeof identitySources.GetSignInOptions> | undefined; next: string }): ReactNode {
  if (options?.ExternalSignIn === undefined) return null;
  return (
    <>
      <p>
        <a className="button" href={`${options.ExternalSignIn.Url}?return_to=${encodeURIComponent(next)}`}>
          Sign in with {options.ExternalSignIn.DisplayName}
        </a>
      </p>
      {options.PasswordSignIn === 'BREAK_GLASS_ONLY' && <p>The form below is for the emergency (break-glass) account only.</p>}
    </>
  );
}

function PasswordStep({ userName, setUserName, onAnswer }: { userName: string; setUserName: (value: string) => void; onAnswer: (answer: Step | undefined) => void }): ReactNode {
  const [password, setPassword] = useState('');
  const initiate = useAction(portal.InitiateAuth);
  const submit = async (): Promise<void> => {
    const answer = await initiate.run({ Username: userName.trim(), Password: password });
    if (answer === undefined) setPassword('');
    onAnswer(answer);
  };
  return (
    <Form onSubmit={submit} label="Sign in">
      <TextField label="User name" value={userName} onValue={setUserName} autoComplete="username" autoFocus required maxLength={128} />
      <TextField label="Password" type="password" value={password} onValue={setPassword} autoComplete="current-password" required maxLength={256} />
      <ErrorMessage error={initiate.error} />
      <SubmitButton pending={initiate.pending}>Sign in</SubmitButton>
    </Form>
  );
}

interface ChallengeProps {
  readonly userName: string;
  readonly step: Step;
  readonly session: string;
  readonly onAnswer: (answer: Step | undefined) => void;
  readonly onRestart: (message: string) => void;
}

function ChallengeStep(props: ChallengeProps): ReactNode {
  switch (props.step.ChallengeName) {
    case 'SOFTWARE_TOKEN_MFA':
      return <CodeChallenge {...props} name="SOFTWARE_TOKEN_MFA" field="SOFTWARE_TOKEN_MFA_CODE" label="Code from your authenticator app" intro="Enter the 6-digit code your authenticator app shows." />;
    case 'WEB_AUTHN':
      return <WebAuthnChallenge {...props} />;
    case 'EMAIL_OTP': {
      const to = props.step.ChallengeParameters?.['CODE_DELIVERY_DESTINATION'] ?? 'your email address';
      return <CodeChallenge {...props} name="EMAIL_OTP" field="EMAIL_OTP_CODE" label="Code from the email" intro={`We sent a 6-digit code to ${to}. It works for 10 minutes.`} />;
    }
    case 'MFA_SETUP':
      return <MfaSetupChallenge {...props} />;
    case 'NEW_PASSWORD_REQUIRED':
      return <NewPasswordChallenge {...props} />;
    default:
      return <p role="alert">The server asked for nothing this page knows. Reload and sign in again.</p>;
  }
}

/** `answering`: the challenge answered, when another than the one asked (an app code for WEB_AUTHN). */
function useRespond(props: ChallengeProps, answering?: portal.ChallengeName) {
  const respond = useAction(portal.RespondToAuthChallenge);
  const send = async (responses: Record<string, string> | undefined, session = props.session): Promise<void> => {
    const challenge = answering ?? props.step.ChallengeName;
    if (challenge === undefined) return;
    const answer = await respond.run({ ChallengeName: challenge, Session: session, ...(responses === undefined ? {} : { ChallengeResponses: responses }) });
    props.onAnswer(answer);
  };
  return { respond, send };
}

function CodeChallenge(props: ChallengeProps & { name: portal.ChallengeName; field: string; label: string; intro: string }): ReactNode {
  const [code, setCode] = useState('');
  const { respond, send } = useRespond(props, props.name);
  const submit = async (): Promise<void> => {
    await send({ USERNAME: props.userName.trim(), [props.field]: code });
    setCode('');
  };
  return (
    <Form onSubmit={submit} label="Multi-factor authentication">
      <p>{props.intro}</p>
      <CodeField label={props.label} value={code} onValue={setCode} />
      <ErrorMessage error={respond.error} />
      <SubmitButton pending={respond.pending}>Verify</SubmitButton>
      <StartOver onRestart={props.onRestart} />
    </Form>
  );
}

/** A security key; the authenticator app instead when the server says it may answer (ALTERNATIVE_CHALLENGE). */
function WebAuthnChallenge(props: ChallengeProps): ReactNode {
  const [useApp, setUseApp] = useState(false);
  const { respond, send } = useRespond(props);
  const appAllowed = props.step.ChallengeParameters?.['ALTERNATIVE_CHALLENGE'] === 'SOFTWARE_TOKEN_MFA';
  if (useApp) {
    return <CodeChallenge {...props} name="SOFTWARE_TOKEN_MFA" field="SOFTWARE_TOKEN_MFA_CODE" label="Code from your authenticator app" intro="Enter the 6-digit code your authenticator app shows." />;
  }
  return (
    <>
      <SecurityKeyChallenge optionsJson={props.step.ChallengeParameters?.['CREDENTIAL_REQUEST_OPTIONS'] ?? '{}'} send={send} error={respond.error} pending={respond.pending} />
      {appAllowed && (
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setUseApp(true);
          }}
        >
          Use your authenticator app instead
        </button>
      )}
      <StartOver onRestart={props.onRestart} />
    </>
  );
}

/** What MFA_SETUP lets the user register (MFAS_CAN_SETUP, as Cognito says it); an app when the server does not say. */
function canSetUp(step: Step): string[] {
  try {
    const listed: unknown = JSON.parse(step.ChallengeParameters?.['MFAS_CAN_SETUP'] ?? '["SOFTWARE_TOKEN_MFA"]');
    return Array.isArray(listed) ? listed.filter((entry): entry is string => typeof entry === 'string') : [];
  } catch {
    return ['SOFTWARE_TOKEN_MFA'];
  }
}

function MfaSetupChallenge(props: ChallengeProps): ReactNode {
  const { respond, send } = useRespond(props);
  const kinds = canSetUp(props.step);
  const registered = (session: string | undefined): void => {
    void send(undefined, session ?? props.session);
  };
  const key = kinds.includes('WEB_AUTHN');
  const app = kinds.includes('SOFTWARE_TOKEN_MFA');
  const what = [key ? 'a security key or passkey' : '', app ? 'an authenticator app (such as a password manager or an authenticator on your phone)' : ''].filter((text) => text !== '');
  return (
    <section aria-labelledby="mfa-setup-heading">
      <h2 id="mfa-setup-heading">{key && app ? 'Register an MFA device' : key ? 'Register a security key' : 'Register an authenticator app'}</h2>
      <p>Your account needs {what.join(', or ')} to sign in.</p>
      {key && (
        <SecurityKeyRegistration
          session={props.session}
          onRegistered={(_name, session) => {
            registered(session);
          }}
        />
      )}
      {app && (
        <>
          {key && <h3>Or an authenticator app</h3>}
          <AuthenticatorSetup session={props.session} onVerified={registered} />
        </>
      )}
      <ErrorMessage error={respond.error} />
      <StartOver onRestart={props.onRestart} />
    </section>
  );
}

function NewPasswordChallenge(props: ChallengeProps): ReactNode {
  const pair = usePasswordPair();
  const { respond, send } = useRespond(props);
  const submit = async (): Promise<void> => {
    if (pair.check()) await send({ USERNAME: props.userName.trim(), NEW_PASSWORD: pair.password });
  };
  return (
    <Form onSubmit={submit} label="Choose a new password">
      <p>Your password was set to be changed at the first sign-in. Choose your own.</p>
      <NewPasswordFields pair={pair} userName={props.userName} />
      <ErrorMessage error={respond.error} />
      <SubmitButton pending={respond.pending}>Set password and continue</SubmitButton>
      <StartOver onRestart={props.onRestart} />
    </Form>
  );
}

function StartOver({ onRestart }: { onRestart: (message: string) => void }): ReactNode {
  return (
    <button
      type="button"
      className="link-button"
      onClick={() => {
        onRestart('Sign in again.');
      }}
    >
      Start over
    </button>
  );
}
