/**
 * Security keys and passkeys (WebAuthn) over HTTP against a real server, on SQLite and
 * PostgreSQL: a software authenticator written here (a P-256 key from node:crypto, attestation
 * "none", authenticator data and client data built byte by byte, assertions signed) registers,
 * signs in, and is refused for a wrong signature, a counter going back (a clone), a challenge
 * answered twice, and once removed.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { identitystore, portal, type OutputOf } from '@airlock/protocol';
import { BACKENDS, createPerson, refused, signInToken, startTestServer, TEST_PASSWORD, type TestServer } from '@airlock/testkit';

const TIMEOUT = { timeout: 30_000 };

const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Buffer): string => data.toString('base64url');

/** The little CBOR a "none" attestation needs: small maps, text, byte strings, small integers. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 256) return Buffer.from([(major << 5) | 24, length]);
    return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>).entries()].flatMap(([k, v]) => [cbor(k), cbor(v)]);
    return Buffer.concat([head(5, value.size), ...entries]);
  }
  throw new Error(`no CBOR for ${typeof value}`);
}

/** A security key in software: one P-256 credential with a signature counter. */
class SoftwareAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  counter = 0;

  constructor(private readonly origin: string) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  private get rpIdHash(): Buffer {
    return sha256(Buffer.from(new URL(this.origin).hostname));
  }

  private clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** navigator.credentials.create's answer (RegistrationResponseJSON). */
  register(options: { challenge: string; rp: { id?: string } }): Record<string, unknown> {
    assert.equal(options.rp.id, new URL(this.origin).hostname, 'the RP ID is the public URL host');
    const jwk = this.publicKey.export({ format: 'jwk' });
    // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    const coseKey = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x ?? '', 'base64url')], [-3, Buffer.from(jwk.y ?? '', 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    // Flags: user present (0x01), user verified (0x04), attested credential data (0x40).
    const authData = Buffer.concat([this.rpIdHash, Buffer.from([0x45]), counter, Buffer.alloc(16), idLength, this.credentialId, coseKey]);
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge)), attestationObject: b64url(attestationObject), transports: ['usb'] },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get's answer (AuthenticationResponseJSON), as text; the counter goes up first. */
  assert(challenge: string, options: { counter?: number; tamper?: boolean; unverified?: boolean } = {}): string {
    this.counter = options.counter ?? this.counter + 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    // User present, and (unless told otherwise) verified: a PIN or a finger.
    const authenticatorData = Buffer.concat([this.rpIdHash, Buffer.from([options.unverified === true ? 0x01 : 0x05]), counter]);
    const clientDataJSON = this.clientData('webauthn.get', challenge);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    if (options.tamper === true) signature.writeUInt8(signature.readUInt8(signature.length - 1) ^ 0x01, signature.length - 1);
    return JSON.stringify({
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature) },
      clientExtensionResults: {},
    });
  }
}

type AuthOutput = OutputOf<typeof portal.InitiateAuth>;

/** The challenge the WEB_AUTHN step asks to sign, from its CREDENTIAL_REQUEST_OPTIONS. */
function requestOptions(step: AuthOutput): { challenge: string; allowCredentials: { id: string }[]; rpId: string } {
  assert.equal(step.ChallengeName, 'WEB_AUTHN', JSON.stringify(step));
  return JSON.parse(step.ChallengeParameters?.['CREDENTIAL_REQUEST_OPTIONS'] ?? '{}') as { challenge: string; allowCredentials: { id: string }[]; rpId: string };
}

const answerKey = (server: TestServer, session: string, credential: string): Promise<AuthOutput> =>
  server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'WEB_AUTHN', Session: session, ChallengeResponses: { CREDENTIAL: credential } });

const startSignIn = (server: TestServer, userName: string): Promise<AuthOutput> => server.client().call(portal.InitiateAuth, { Username: userName, Password: TEST_PASSWORD });

async function registerKey(server: TestServer, token: string, name: string): Promise<{ key: SoftwareAuthenticator; deviceId: string }> {
  const key = new SoftwareAuthenticator(server.url);
  const { CredentialCreationOptions } = await server.client(token).call(portal.StartWebAuthnRegistration, {});
  const { DeviceId } = await server.client(token).call(portal.CompleteWebAuthnRegistration, {
    Credential: key.register(CredentialCreationOptions as { challenge: string; rp: { id?: string } }),
    FriendlyDeviceName: name,
  });
  return { key, deviceId: DeviceId };
}

for (const backend of BACKENDS) {
  describe(`security keys, on ${backend}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
      await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP', 'SECURITY_KEY'], NoDeviceAction: 'EMAIL_OTP' });
    });
    after(async () => {
      await server.stop();
    });

    test('register a key, sign in with it, counter raised; a wrong signature and a lower counter are refused', TIMEOUT, async () => {
      const userId = await createPerson(server, 'keyholder');
      const token = await signInToken(server, 'keyholder');
      const { key, deviceId } = await registerKey(server, token, 'blue key');

      const { Devices } = await server.client(token).call(portal.ListMfaDevices, {});
      assert.deepEqual(Devices.map((d) => [d.DeviceId, d.Type, d.FriendlyDeviceName, d.Transports]), [[deviceId, 'SECURITY_KEY', 'blue key', ['usb']]]);
      const seenByAdmin = await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: userId });
      assert.equal(seenByAdmin.Devices[0]?.Type, 'SECURITY_KEY');

      const first = await startSignIn(server, 'keyholder');
      const options = requestOptions(first);
      assert.equal(options.rpId, '127.0.0.1');
      assert.deepEqual(options.allowCredentials.map((c) => c.id), [key.credentialId.toString('base64url')]);
      // A wrong signature counts as a wrong answer; the Session survives it.
      await refused(answerKey(server, first.Session ?? '', key.assert(options.challenge, { tamper: true })), 'CodeMismatchException', /security key/);
      const signedIn = await answerKey(server, first.Session ?? '', key.assert(options.challenge));
      assert.match(signedIn.AuthenticationResult?.AccessToken ?? '', /^alp_/);
      const session = await server.client(signedIn.AuthenticationResult?.AccessToken).call(portal.GetSession, {});
      assert.equal(session.MfaAuthenticated, true);

      // A clone of the key would answer with a counter the server has already seen.
      const clone = requestOptions(await startSignIn(server, 'keyholder'));
      const second = await startSignIn(server, 'keyholder');
      const stale = key.counter;
      await refused(answerKey(server, second.Session ?? '', key.assert(requestOptions(second).challenge, { counter: stale })), 'CodeMismatchException');
      await refused(answerKey(server, second.Session ?? '', key.assert(requestOptions(second).challenge, { counter: stale - 1 })), 'CodeMismatchException');
      assert.ok(clone.challenge !== requestOptions(second).challenge, 'each sign-in has its own challenge');
      const later = await answerKey(server, second.Session ?? '', key.assert(requestOptions(second).challenge, { counter: stale + 5 }));
      assert.ok(later.AuthenticationResult !== undefined, 'a higher counter is accepted');
      const listed = await server.client(token).call(portal.ListMfaDevices, {});
      assert.ok(listed.Devices[0]?.LastUsedDate !== undefined);
    });

    test('a challenge answers once: a replayed assertion and a replayed registration are refused', TIMEOUT, async () => {
      await createPerson(server, 'replayer');
      const token = await signInToken(server, 'replayer');
      const key = new SoftwareAuthenticator(server.url);
      const { CredentialCreationOptions } = await server.client(token).call(portal.StartWebAuthnRegistration, {});
      const registration = key.register(CredentialCreationOptions as { challenge: string; rp: { id?: string } });
      await server.client(token).call(portal.CompleteWebAuthnRegistration, { Credential: registration });
      await refused(server.client(token).call(portal.CompleteWebAuthnRegistration, { Credential: registration }), 'InvalidRequestException', /No registration is waiting/);

      const step = await startSignIn(server, 'replayer');
      const assertion = key.assert(requestOptions(step).challenge);
      assert.ok((await answerKey(server, step.Session ?? '', assertion)).AuthenticationResult !== undefined);
      await refused(answerKey(server, step.Session ?? '', assertion), 'NotAuthorizedException', /expired/);
      // The same assertion (its challenge) given to another sign-in's Session is not its answer.
      const next = await startSignIn(server, 'replayer');
      await refused(answerKey(server, next.Session ?? '', assertion), 'CodeMismatchException');
    });

    test('another user\'s key does not sign in; a removed key is no longer asked for; a registration expires', TIMEOUT, async () => {
      await createPerson(server, 'owner01');
      await createPerson(server, 'other01');
      const ownerToken = await signInToken(server, 'owner01');
      const otherToken = await signInToken(server, 'other01');
      const { key: ownerKey, deviceId } = await registerKey(server, ownerToken, 'mine');
      await registerKey(server, otherToken, 'theirs');

      const step = await startSignIn(server, 'other01');
      await refused(answerKey(server, step.Session ?? '', ownerKey.assert(requestOptions(step).challenge)), 'CodeMismatchException');

      await refused(server.client(otherToken).call(portal.DeleteMfaDevice, { DeviceId: deviceId }), 'ResourceNotFoundException');
      await server.client(ownerToken).call(portal.DeleteMfaDevice, { DeviceId: deviceId });
      assert.deepEqual((await server.client(ownerToken).call(portal.ListMfaDevices, {})).Devices, []);
      // No device left: the guide's emailed code again.
      assert.equal((await startSignIn(server, 'owner01')).ChallengeName, 'EMAIL_OTP');

      const { CredentialCreationOptions } = await server.client(ownerToken).call(portal.StartWebAuthnRegistration, {});
      server.clock.advance(5 * 60 * 1000 + 1000);
      const late = new SoftwareAuthenticator(server.url).register(CredentialCreationOptions as { challenge: string; rp: { id?: string } });
      await refused(server.client(ownerToken).call(portal.CompleteWebAuthnRegistration, { Credential: late }), 'InvalidRequestException', /expired/);
    });

    test('REQUIRE_REGISTRATION with security keys only: the MFA_SETUP Session registers a key, then signs in', TIMEOUT, async () => {
      await createPerson(server, 'newcomer');
      await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['SECURITY_KEY'], NoDeviceAction: 'REQUIRE_REGISTRATION', UserVerification: 'REQUIRED' });
      try {
        const setup = await startSignIn(server, 'newcomer');
        assert.equal(setup.ChallengeName, 'MFA_SETUP');
        assert.equal(setup.ChallengeParameters?.['MFAS_CAN_SETUP'], '["WEB_AUTHN"]');
        const session = setup.Session ?? '';
        await refused(server.client().call(portal.AssociateSoftwareToken, { Session: session }), 'InvalidRequestException', /AUTHENTICATOR_APP/);
        const { CredentialCreationOptions } = await server.client().call(portal.StartWebAuthnRegistration, { Session: session });
        const options = CredentialCreationOptions as { challenge: string; rp: { id?: string }; authenticatorSelection?: { userVerification?: string } };
        assert.equal(options.authenticatorSelection?.userVerification, 'required');
        const key = new SoftwareAuthenticator(server.url);
        await server.client().call(portal.CompleteWebAuthnRegistration, { Credential: key.register(options), Session: session });
        const done = await server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'MFA_SETUP', Session: session });
        assert.ok(done.AuthenticationResult !== undefined, JSON.stringify(done));
        const step = await startSignIn(server, 'newcomer');
        // UserVerification REQUIRED: a touch without the PIN is not enough.
        await refused(answerKey(server, step.Session ?? '', key.assert(requestOptions(step).challenge, { unverified: true })), 'CodeMismatchException');
        assert.ok((await answerKey(server, step.Session ?? '', key.assert(requestOptions(step).challenge))).AuthenticationResult !== undefined);
      } finally {
        await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP', 'SECURITY_KEY'], NoDeviceAction: 'EMAIL_OTP' });
      }
    });

    test('an administrator removes a user\'s key; keys are refused when SECURITY_KEY is not allowed', TIMEOUT, async () => {
      const userId = await createPerson(server, 'lostkey');
      const token = await signInToken(server, 'lostkey');
      const { deviceId } = await registerKey(server, token, 'lost');
      await server.root.call(identitystore.DeleteMfaDeviceForUser, { UserId: userId, DeviceId: deviceId });
      assert.deepEqual((await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: userId })).Devices, []);

      await registerKey(server, token, 'spare');
      await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
      try {
        await refused(server.client(token).call(portal.StartWebAuthnRegistration, {}), 'InvalidRequestException', /SECURITY_KEY/);
        // The key on record is not offered while keys are not allowed.
        assert.equal((await startSignIn(server, 'lostkey')).ChallengeName, 'EMAIL_OTP');
      } finally {
        await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP', 'SECURITY_KEY'], NoDeviceAction: 'EMAIL_OTP' });
      }
    });
  });
}
