/**
 * Security keys and passkeys (WebAuthn): registering one on the MFA devices page, and the
 * WEB_AUTHN sign-in step. The browser talks to the key (navigator.credentials, through
 * @simplewebauthn/browser); the server keeps the challenges and checks the answers.
 */
import { portal } from '@airlock/protocol';
import { startAuthentication, startRegistration, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { useState, type ReactNode } from 'react';
import { useAction } from '../../app/api';
import { ErrorMessage, PageProblem } from '../../app/errors';
import { Form, SubmitButton, TextField } from '../../app/forms';

/** What the browser or the key refused, in words: cancelled, timed out, or a key already registered. */
function keyProblem(error: unknown): PageProblem {
  const name = error instanceof Error ? error.name : '';
  const problem = (message: string): PageProblem => new PageProblem('The security key was not used', message);
  if (name === 'NotAllowedError') return problem('The security key did not answer: the request was cancelled or timed out. Try again.');
  if (name === 'InvalidStateError') return problem('This security key is already registered to you.');
  return problem(`The browser could not use a security key: ${error instanceof Error ? error.message : String(error)}`);
}

/** Signed in, or with the Session of an MFA_SETUP challenge (`session`), which comes back to `onRegistered`. */
export function SecurityKeyRegistration({ session, onRegistered }: { session?: string; onRegistered: (name: string, session: string | undefined) => void }): ReactNode {
  const start = useAction(portal.StartWebAuthnRegistration);
  const complete = useAction(portal.CompleteWebAuthnRegistration);
  const [name, setName] = useState('Security key');
  const [problem, setProblem] = useState<Error>();
  const submit = async (): Promise<void> => {
    setProblem(undefined);
    const options = await start.run(session === undefined ? {} : { Session: session });
    if (options === undefined) return;
    let credential: unknown;
    try {
      credential = await startRegistration({ optionsJSON: options.CredentialCreationOptions as PublicKeyCredentialCreationOptionsJSON });
    } catch (error) {
      setProblem(keyProblem(error));
      return;
    }
    const done = await complete.run({ Credential: credential, FriendlyDeviceName: name.trim(), ...(options.Session === undefined ? {} : { Session: options.Session }) });
    if (done !== undefined) onRegistered(name.trim(), done.Session);
  };
  const pending = start.pending || complete.pending;
  return (
    <Form onSubmit={submit} label="Register a security key">
      <p>A security key (USB, NFC) or a passkey kept by this device or your password manager. Your browser will ask you to touch or unlock it.</p>
      <TextField label="Name for the key" value={name} onValue={setName} required maxLength={64} />
      <ErrorMessage error={start.error ?? complete.error ?? problem} />
      <SubmitButton pending={pending}>Register security key</SubmitButton>
    </Form>
  );
}

/** The WEB_AUTHN step: the key signs the server's challenge; `send` passes the answer on. */
export function SecurityKeyChallenge({
  optionsJson,
  send,
  error,
  pending,
}: {
  optionsJson: string;
  send: (responses: Record<string, string>) => Promise<void>;
  error: unknown;
  pending: boolean;
}): ReactNode {
  const [problem, setProblem] = useState<Error>();
  const [asking, setAsking] = useState(false);
  const submit = async (): Promise<void> => {
    setProblem(undefined);
    setAsking(true);
    try {
      const assertion = await startAuthentication({ optionsJSON: JSON.parse(optionsJson) as PublicKeyCredentialRequestOptionsJSON });
      await send({ CREDENTIAL: JSON.stringify(assertion) });
    } catch (failure) {
      setProblem(keyProblem(failure));
    } finally {
      setAsking(false);
    }
  };
  return (
    <Form onSubmit={submit} label="Multi-factor authentication">
      <p>Use your security key or passkey: select the button, then touch or unlock the key when your browser asks.</p>
      <ErrorMessage error={error ?? problem} />
      <SubmitButton pending={pending || asking}>Use security key</SubmitButton>
    </Form>
  );
}
