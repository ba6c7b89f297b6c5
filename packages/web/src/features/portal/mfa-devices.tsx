/** Your MFA devices: the list, removing one, registering an authenticator app with its QR code or a security key. */
import { portal } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Loading } from '../../app/forms';
import { AuthenticatorSetup } from './authenticator-setup';
import { SecurityKeyRegistration } from './security-key';

// Timestamps arrive in epoch seconds, as AWS's JSON protocol sends them.
const when = (time: number | undefined): string => (time === undefined ? 'never' : new Date(time * 1000).toLocaleString());

export function MfaDevicesPage(): ReactNode {
  const devices = useOperation(portal.ListMfaDevices, {});
  const remove = useAction(portal.DeleteMfaDevice);
  const [registering, setRegistering] = useState(false);
  const [notice, setNotice] = useState<string>();
  // What the MFA settings let one register: the other sections would only end in a refusal.
  const allowed = devices.data?.AllowedMfaTypes ?? [];
  const removeDevice = async (id: string, name: string): Promise<void> => {
    if (!window.confirm(`Remove the MFA device “${name}”? You will no longer be able to sign in with it.`)) return;
    if ((await remove.run({ DeviceId: id })) !== undefined) {
      setNotice(`Removed “${name}”.`);
      devices.reload();
    }
  };
  return (
    <>
      {notice !== undefined && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <section aria-labelledby="devices-heading">
        <h2 id="devices-heading">Registered devices</h2>
        <ErrorMessage error={devices.error ?? remove.error} />
        {devices.data === undefined ? (
          devices.error === undefined && <Loading what="your devices" />
        ) : devices.data.Devices.length === 0 ? (
          <p>No MFA device yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Registered</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {devices.data.Devices.map((device) => (
                <tr key={device.DeviceId}>
                  <td>{device.FriendlyDeviceName}</td>
                  <td>{device.Type === 'SECURITY_KEY' ? 'Security key' : 'Authenticator app'}</td>
                  <td>{when(device.CreatedDate)}</td>
                  <td>{when(device.LastUsedDate)}</td>
                  <td>
                    <button
                      type="button"
                      disabled={remove.pending}
                      aria-label={`Remove ${device.FriendlyDeviceName}`}
                      onClick={() => {
                        void removeDevice(device.DeviceId, device.FriendlyDeviceName);
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {allowed.includes('AUTHENTICATOR_APP') && (
        <section aria-labelledby="register-heading">
          <h2 id="register-heading">Register an authenticator app</h2>
          {registering ? (
            <AuthenticatorSetup
              onVerified={() => {
                setRegistering(false);
                setNotice('Authenticator app registered.');
                devices.reload();
              }}
            />
          ) : (
            <button
              type="button"
              onClick={() => {
                setNotice(undefined);
                setRegistering(true);
              }}
            >
              Register an authenticator app
            </button>
          )}
        </section>
      )}
      {allowed.includes('SECURITY_KEY') && (
        <section aria-labelledby="security-key-heading">
          <h2 id="security-key-heading">Register a security key or passkey</h2>
          <SecurityKeyRegistration
            onRegistered={(name) => {
              setNotice(`Security key “${name}” registered.`);
              devices.reload();
            }}
          />
        </section>
      )}
    </>
  );
}
