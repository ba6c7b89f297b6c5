/**
 * Service `portal`: signing in with password and MFA (shaped like Amazon Cognito's user-pool
 * API, which users know), invitations, passwords, MFA devices and the portal session. Sign-in
 * operations are public and do their own checks; the others act on the signed-in user.
 */
import { operation } from './operation.js';
import { s, type TypeOf } from './schema.js';

export const CHALLENGE_NAMES = ['SOFTWARE_TOKEN_MFA', 'WEB_AUTHN', 'EMAIL_OTP', 'MFA_SETUP', 'NEW_PASSWORD_REQUIRED'] as const;
export const MFA_TYPES = ['AUTHENTICATOR_APP', 'SECURITY_KEY'] as const;
export type MfaType = (typeof MFA_TYPES)[number];
export type ChallengeName = (typeof CHALLENGE_NAMES)[number];

const secret = (max: number, doc?: string) => s.string({ min: 1, max, sensitive: true, ...(doc === undefined ? {} : { doc }) });
const session = secret(2048, 'The Session a previous step returned; valid 5 minutes (10 for an emailed code).');
const code = s.string({ min: 6, max: 6, pattern: /^\d{6}$/, sensitive: true, doc: 'Six digits.' });

const authenticationResult = s.struct({
  AccessToken: s.required(secret(2048, 'Send as Authorization: Bearer … ')),
  ExpiresIn: s.required(s.integer({ doc: 'Seconds until the token expires.' })),
  TokenType: s.required(s.enum(['Bearer'] as const)),
  NewDeviceMetadata: s.optional(
    s.struct({ DeviceKey: s.required(secret(2048)) }, 'With MfaMode CONTEXT_AWARE: present DeviceKey at the next sign-in from this device to skip MFA.'),
  ),
});

const challengeOrResult = s.struct({
  ChallengeName: s.optional(s.enum(CHALLENGE_NAMES)),
  Session: s.optional(session),
  // WEB_AUTHN's CREDENTIAL_REQUEST_OPTIONS lists the user's credentials: longer than a code.
  ChallengeParameters: s.optional(s.map(s.string({ max: 128 }), s.string({ max: 16_384 }))),
  AuthenticationResult: s.optional(authenticationResult),
});

export const InitiateAuth = operation({
  service: 'portal',
  name: 'InitiateAuth',
  summary: 'Sign in with user name and password. Answers with the next challenge (MFA) or, when none is due, the tokens.',
  caller: 'public',
  readOnly: false,
  input: s.struct({
    // Sensitive: people type their password into the user-name field, and CloudTrail hides it too.
    Username: s.required(s.string({ min: 1, max: 128, sensitive: true })),
    Password: s.required(secret(256)),
    DeviceKey: s.optional(secret(2048, 'From NewDeviceMetadata of an earlier sign-in (CONTEXT_AWARE).')),
  }),
  output: challengeOrResult,
});

export const RespondToAuthChallenge = operation({
  service: 'portal',
  name: 'RespondToAuthChallenge',
  summary: 'Answer a sign-in challenge: SOFTWARE_TOKEN_MFA_CODE, CREDENTIAL (WEB_AUTHN: the assertion as JSON), EMAIL_OTP_CODE, NEW_PASSWORD, or MFA_SETUP once a device is verified.',
  caller: 'public',
  input: s.struct({
    ChallengeName: s.required(s.enum(CHALLENGE_NAMES)),
    Session: s.required(session),
    // A WebAuthn assertion (CREDENTIAL) is a few kilobytes of JSON.
    ChallengeResponses: s.optional(s.map(s.string({ min: 1, max: 64 }), secret(16_384), { max: 8 })),
  }),
  output: challengeOrResult,
});

export const AcceptInvitation = operation({
  service: 'portal',
  name: 'AcceptInvitation',
  summary: "Set the password with the invitation link's token (also for a password-reset link). MFA comes at sign-in.",
  caller: 'public',
  input: s.struct({ InvitationToken: s.required(secret(256)), Password: s.required(secret(256)) }),
  output: s.struct({ UserName: s.required(s.string()) }),
});

export const DescribeInvitation = operation({
  service: 'portal',
  name: 'DescribeInvitation',
  summary: "Airlock's own: whose invitation (or password-reset) link this is and until when, so the page can say so before a password is chosen; NotAuthorizedException for a link used, expired or unknown.",
  caller: 'public',
  input: s.struct({ InvitationToken: s.required(secret(256)) }),
  output: s.struct({ UserName: s.required(s.string()), ExpiresAt: s.required(s.timestamp()) }),
});

export const ChangePassword = operation({
  service: 'portal',
  name: 'ChangePassword',
  summary: "Change the signed-in user's password.",
  caller: 'portal',
  input: s.struct({ PreviousPassword: s.required(secret(256)), ProposedPassword: s.required(secret(256)) }),
  output: s.struct({}),
});

export const AssociateSoftwareToken = operation({
  service: 'portal',
  name: 'AssociateSoftwareToken',
  summary: 'Start registering an authenticator app: a new secret, as text, an otpauth:// URI and a QR code. Signed in, or with the Session of an MFA_SETUP challenge.',
  caller: 'public',
  input: s.struct({ Session: s.optional(session) }),
  output: s.struct({
    SecretCode: s.required(secret(128, 'Base32; type it into the app if the QR code cannot be scanned.')),
    OtpauthUri: s.required(secret(2048)),
    QrCodeSvg: s.required(secret(200_000)),
    Session: s.optional(session),
  }),
});

export const VerifySoftwareToken = operation({
  service: 'portal',
  name: 'VerifySoftwareToken',
  summary: 'Finish registering the authenticator app with a code it shows. At most 2 apps a user.',
  caller: 'public',
  input: s.struct({
    UserCode: s.required(code),
    FriendlyDeviceName: s.optional(s.string({ min: 1, max: 64 })),
    Session: s.optional(session),
  }),
  output: s.struct({ Status: s.required(s.enum(['SUCCESS'] as const)), Session: s.optional(session) }),
});

export const StartWebAuthnRegistration = operation({
  service: 'portal',
  name: 'StartWebAuthnRegistration',
  summary: 'Start registering a security key or passkey: the options for navigator.credentials.create (valid 5 minutes, used once). Signed in, or with the Session of an MFA_SETUP challenge.',
  caller: 'public',
  input: s.struct({ Session: s.optional(session) }),
  output: s.struct({ CredentialCreationOptions: s.required(s.document('PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3).')), Session: s.optional(session) }),
});

export const CompleteWebAuthnRegistration = operation({
  service: 'portal',
  name: 'CompleteWebAuthnRegistration',
  summary: "Finish registering a security key or passkey with the authenticator's answer (RegistrationResponseJSON).",
  caller: 'public',
  input: s.struct({
    Credential: s.required(s.document('RegistrationResponseJSON, as navigator.credentials.create gave it (base64url fields).')),
    FriendlyDeviceName: s.optional(s.string({ min: 1, max: 64 })),
    Session: s.optional(session),
  }),
  output: s.struct({ DeviceId: s.required(s.string()), Session: s.optional(session) }),
});

/** An MFA device as its owner (ListMfaDevices) and an administrator (identitystore:ListMfaDevicesForUser) see it. */
export const mfaDevice = s.struct({
  DeviceId: s.required(s.string()),
  Type: s.required(s.enum(MFA_TYPES)),
  FriendlyDeviceName: s.required(s.string()),
  Transports: s.optional(s.list(s.string(), { doc: 'SECURITY_KEY: how the browser reaches it (usb, nfc, ble, internal, hybrid).' })),
  CreatedDate: s.required(s.timestamp()),
  LastUsedDate: s.optional(s.timestamp()),
});

export const ListMfaDevices = operation({
  service: 'portal',
  name: 'ListMfaDevices',
  summary: "The signed-in user's MFA devices.",
  caller: 'portal',
  input: s.struct({}),
  output: s.struct({
    Devices: s.required(s.list(mfaDevice)),
    AllowedMfaTypes: s.required(s.list(s.enum(MFA_TYPES), { doc: 'The types the MFA settings let the user register now.' })),
  }),
});

export const DeleteMfaDevice = operation({
  service: 'portal',
  name: 'DeleteMfaDevice',
  summary: "Remove one of the signed-in user's MFA devices.",
  caller: 'portal',
  input: s.struct({ DeviceId: s.required(s.string({ min: 1, max: 64 })) }),
  output: s.struct({}),
});

export const GetSession = operation({
  service: 'portal',
  name: 'GetSession',
  summary: 'Who is signed in, since when, until when, and whether with MFA.',
  caller: 'portal',
  input: s.struct({}),
  output: s.struct({
    UserName: s.required(s.string()),
    UserId: s.required(s.string()),
    MfaAuthenticated: s.required(s.boolean()),
    SignedInAt: s.required(s.timestamp()),
    ExpiresAt: s.required(s.timestamp()),
  }),
});

export const SignOut = operation({
  service: 'portal',
  name: 'SignOut',
  summary: 'End the portal session: its token stops working at once.',
  caller: 'portal',
  input: s.struct({}),
  output: s.struct({}),
});

export const PORTAL_OPERATIONS = [
  InitiateAuth,
  RespondToAuthChallenge,
  AcceptInvitation,
  DescribeInvitation,
  ChangePassword,
  AssociateSoftwareToken,
  VerifySoftwareToken,
  StartWebAuthnRegistration,
  CompleteWebAuthnRegistration,
  ListMfaDevices,
  DeleteMfaDevice,
  GetSession,
  SignOut,
] as const;

export const MFA_MODES = ['ALWAYS_ON', 'CONTEXT_AWARE', 'DISABLED'] as const;
export const NO_DEVICE_ACTIONS = ['EMAIL_OTP', 'REQUIRE_REGISTRATION', 'BLOCK', 'ALLOW'] as const;
export const USER_VERIFICATIONS = ['REQUIRED', 'PREFERRED'] as const;

const mfaSettings = {
  MfaMode: s.required(s.enum(MFA_MODES, 'ALWAYS_ON: every sign-in. CONTEXT_AWARE: only from a device not seen in TrustedDeviceDays. DISABLED: never.')),
  AllowedMfaTypes: s.required(s.list(s.enum(MFA_TYPES, 'AUTHENTICATOR_APP (TOTP) and SECURITY_KEY (WebAuthn security keys and passkeys).'), { min: 1, max: 2 })),
  UserVerification: s.optional(s.enum(USER_VERIFICATIONS, 'SECURITY_KEY: REQUIRED (a PIN or biometric on the key at every use) or PREFERRED (default).')),
  NoDeviceAction: s.required(s.enum(NO_DEVICE_ACTIONS, 'For users without a device: EMAIL_OTP (a code by mail), REQUIRE_REGISTRATION, BLOCK, or ALLOW (no MFA).')),
  TrustedDeviceDays: s.optional(s.integer({ min: 1, max: 90, doc: 'CONTEXT_AWARE: how long a device stays trusted (default 30).' })),
};

export const PutMfaSettings = operation({
  service: 'sso',
  name: 'PutMfaSettings',
  summary: 'How sign-in asks for MFA (IAM Identity Center: Settings → Authentication → MFA).',
  input: s.struct({ InstanceArn: s.optional(s.string({ max: 1224 })), ...mfaSettings }),
  output: s.struct({}),
});

export const GetMfaSettings = operation({
  service: 'sso',
  name: 'GetMfaSettings',
  summary: 'The MFA settings. A new server starts with the guide\'s: ALWAYS_ON, AUTHENTICATOR_APP, EMAIL_OTP.',
  input: s.struct({ InstanceArn: s.optional(s.string({ max: 1224 })) }),
  output: s.struct({ ...mfaSettings, TrustedDeviceDays: s.required(s.integer()), UserVerification: s.required(s.enum(USER_VERIFICATIONS)) }),
});

export type MfaSettingsOutput = TypeOf<typeof GetMfaSettings.output>;

export const MFA_SETTINGS_OPERATIONS = [PutMfaSettings, GetMfaSettings] as const;

/** RFC 8628, as `airlock login` uses it: the CLI shows a code, the signed-in person approves it. */
export const StartDeviceAuthorization = operation({
  service: 'portal',
  name: 'StartDeviceAuthorization',
  summary: 'Begin a device sign-in (airlock login): returns a code for the person to approve in the portal, and a device code to poll with.',
  caller: 'public',
  readOnly: false,
  input: s.struct({ ClientName: s.optional(s.string({ min: 1, max: 64 })) }),
  output: s.struct({
    DeviceCode: s.required(secret(256)),
    UserCode: s.required(s.string({ doc: 'Eight letters, shown as XXXX-XXXX.' })),
    VerificationUri: s.required(s.string()),
    VerificationUriComplete: s.required(s.string()),
    ExpiresIn: s.required(s.integer()),
    Interval: s.required(s.integer()),
  }),
});

export const ApproveDeviceAuthorization = operation({
  service: 'portal',
  name: 'ApproveDeviceAuthorization',
  summary: 'Approve a device sign-in by its user code: the device gets its own session as the signed-in person.',
  caller: 'portal',
  input: s.struct({ UserCode: s.required(s.string({ min: 8, max: 9 })) }),
  output: s.struct({ ClientName: s.optional(s.string()) }),
});

export const CreateToken = operation({
  service: 'portal',
  name: 'CreateToken',
  summary: 'Poll for the token of a device sign-in: AuthorizationPendingException until approved, SlowDownException if too fast.',
  caller: 'public',
  readOnly: false,
  input: s.struct({
    GrantType: s.optional(s.enum(['urn:ietf:params:oauth:grant-type:device_code'] as const)),
    DeviceCode: s.required(secret(256)),
  }),
  output: s.struct({ AccessToken: s.required(secret(2048)), ExpiresIn: s.required(s.integer()), TokenType: s.required(s.enum(['Bearer'] as const)) }),
});

export const DEVICE_AUTHORIZATION_OPERATIONS = [StartDeviceAuthorization, ApproveDeviceAuthorization, CreateToken] as const;
