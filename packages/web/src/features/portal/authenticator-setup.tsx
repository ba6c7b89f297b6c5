/**
 * Registering an authenticator app: the QR code to scan and the key written out for apps that
 * cannot scan, then a first code from the app and a name for the device. Used at sign-in
 * (MFA_SETUP, with the challenge's Session) and on the MFA devices page (signed in).
 */
import { portal } from '@airlock/protocol';
import { useEffect, useState, type ReactNode } from 'react';
import { useAction } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { CodeField, Form, Loading, SubmitButton, TextField } from '../../app/forms';

/** The server's SVG as an image: an <img> never runs what an SVG holds, and no markup is inserted. */
function QrCode({ svg }: { svg: string }): ReactNode {
  return <img className="qr" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} alt="QR code to scan with your authenticator app" width={200} height={200} />;
}

/** `JBSWY3DPEHPK3PXP` → `JBSW Y3DP EHPK 3PXP`: easier to type. */
export function groupKey(key: string): string {
  return key.replace(/(.{4})(?=.)/g, '$1 ');
}

export function AuthenticatorSetup({ session, onVerified }: { session?: string; onVerified: (session: string | undefined) => void }): ReactNode {
  const associate = useAction(portal.AssociateSoftwareToken);
  const verify = useAction(portal.VerifySoftwareToken);
  const [secret, setSecret] = useState<{ key: string; svg: string; session: string | undefined }>();
  const [code, setCode] = useState('');
  const [deviceName, setDeviceName] = useState('Authenticator app');
  const { run } = associate;
  useEffect(() => {
    void run(session === undefined ? {} : { Session: session }).then((answer) => {
      if (answer !== undefined) setSecret({ key: answer.SecretCode, svg: answer.QrCodeSvg, session: answer.Session });
    });
  }, [run, session]);
  if (associate.error !== undefined) return <ErrorMessage error={associate.error} />;
  if (secret === undefined) return <Loading what="a new key" />;
  const submit = async (): Promise<void> => {
    const answer = await verify.run({ UserCode: code, FriendlyDeviceName: deviceName, ...(secret.session === undefined ? {} : { Session: secret.session }) });
    if (answer !== undefined) onVerified(answer.Session);
    else setCode('');
  };
  return (
    <div className="authenticator-setup">
      <ol className="steps">
        <li>
          <p>Scan this QR code with your authenticator app:</p>
          <QrCode svg={secret.svg} />
        </li>
        <li>
          <p>
            Or type this key into the app (time-based, 6 digits):{' '}
            <code id="authenticator-key" className="secret-key">
              {groupKey(secret.key)}
            </code>
          </p>
        </li>
        <li>
          <p>Enter the code the app shows now.</p>
        </li>
      </ol>
      <Form onSubmit={submit} label="Confirm the authenticator app">
        <TextField label="Device name" value={deviceName} onValue={setDeviceName} maxLength={64} required hint="Helps you tell your devices apart." />
        <CodeField label="Code from the app" value={code} onValue={setCode} />
        <ErrorMessage error={verify.error} />
        <SubmitButton pending={verify.pending}>Add this authenticator</SubmitButton>
      </Form>
    </div>
  );
}
