/**
 * The tables, as Kysely sees them. Times are epoch milliseconds; booleans are 0/1 integers; JSON
 * is text. These choices read the same on SQLite and PostgreSQL.
 */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface UsersTable {
  user_id: string;
  user_name: string;
  /** Lower-cased: user names are unique without regard to case. */
  user_name_key: string;
  /** The primary email, lower-cased, for GetUserId and sign-in codes. */
  email_key: string | null;
  /** The profile fields of Identity Store's User, as JSON. */
  profile: string;
  password_hash: string | null;
  /** 1 when the password was set by an admin and must change at the next sign-in. */
  password_must_change: number;
  created_at: number;
  updated_at: number;
  /** When SCIM deactivated the user (`active: false`): no sign-in, no session; null while active. */
  disabled_at: number | null;
  /** The identity provider's id for the user, set through SCIM (`externalId`). */
  scim_external_id: string | null;
}

export interface GroupsTable {
  group_id: string;
  display_name: string;
  display_name_key: string;
  description: string | null;
  created_at: number;
  /** The identity provider's id for the group, set through SCIM (`externalId`). */
  scim_external_id: string | null;
  /** The last change through SCIM (meta.lastModified); null: never changed since created. */
  updated_at: number | null;
}

export interface MembershipsTable {
  membership_id: string;
  group_id: string;
  user_id: string;
  created_at: number;
}

export interface OneTimeTokensTable {
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string;
  user_id: string;
  purpose: 'invitation' | 'password_reset';
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface AuditEventsTable {
  /** Assigned by the writer, one after the last: the trail is a chain, appended in order. */
  seq: number;
  event_id: string;
  event_time: number;
  event_source: string;
  event_name: string;
  read_only: number;
  /** The whole CloudTrail-shaped record, as JSON. */
  record: string;
  /** The hash of the record before (64 zeros for the first), and this record's (audit/chain.ts). */
  prev_hash: string;
  hash: string;
  /** From the record, for LookupEvents: userIdentity.userName (root for Root), userIdentity.accessKeyId. */
  user_name: string | null;
  access_key_id: string | null;
}

/** The resources each audit record names, for LookupEvents' ResourceName and ResourceType. */
export interface AuditEventResourcesTable {
  seq: number;
  resource_type: string;
  resource_name: string;
}

export interface MfaDevicesTable {
  device_id: string;
  user_id: string;
  name: string;
  /** The TOTP seed, encrypted (see identity/secrets.ts). */
  secret: string;
  /** 0 while registration awaits its first code. */
  verified: number;
  /** The newest TOTP step accepted: a code is good once, and never after a newer one. */
  last_used_step: number;
  last_used_at: number | null;
  created_at: number;
}

export type Challenge = 'SOFTWARE_TOKEN_MFA' | 'WEB_AUTHN' | 'EMAIL_OTP' | 'MFA_SETUP' | 'NEW_PASSWORD_REQUIRED';

/** A sign-in in progress: the password was right, a challenge is due. Keyed by its Session's hash. */
export interface AuthFlowsTable {
  flow_hash: string;
  user_id: string;
  challenge: Challenge;
  email_code_hash: string | null;
  failures: number;
  /** 1 when a trusted DeviceKey came with the sign-in (CONTEXT_AWARE skips MFA). */
  device_known: number;
  expires_at: number;
  /** WEB_AUTHN: the challenge the assertion must sign (base64url); used once, as the flow is. */
  webauthn_challenge: string | null;
}

/** A security key or passkey (WebAuthn) registered as an MFA device. */
export interface WebAuthnCredentialsTable {
  device_id: string;
  user_id: string;
  /** The credential ID, base64url: what the authenticator names the key by. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The authenticator's signature counter: an assertion must raise it (a clone would lag). */
  sign_count: number;
  /** JSON list of AuthenticatorTransport. */
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A registration begun (StartWebAuthnRegistration): its challenge, for one answer within 5 minutes. */
export interface WebAuthnRegistrationsTable {
  challenge: string;
  user_id: string;
  expires_at: number;
}

export interface PortalSessionsTable {
  token_hash: string;
  session_id: string;
  user_id: string;
  mfa: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface TrustedDevicesTable {
  key_hash: string;
  user_id: string;
  expires_at: number;
}

/** Failures counted per key (a user name, a source address) for lockouts and rate limits. */
export interface ThrottlesTable {
  key: string;
  failures: number;
  window_start: number;
  locked_until: number;
}

/** An `airlock login` in progress (RFC 8628). The token is made only when the device collects it. */
export interface DeviceAuthorizationsTable {
  device_code_hash: string;
  user_code: string;
  client_name: string | null;
  approved_user_id: string | null;
  approved_mfa: number;
  last_poll_at: number;
  expires_at: number;
}

export interface AccountsTable {
  account_id: string;
  name: string;
  email: string;
  joined_method: 'CREATED' | 'INVITED';
  created_at: number;
}

export interface PermissionSetsTable {
  /** `ps-` + 16 hex; the ARN adds the instance. */
  ps_id: string;
  name: string;
  name_key: string;
  description: string | null;
  session_duration: string;
  relay_state: string | null;
  /** [{Key, Value}] as JSON. */
  tags: string;
  /** As it was put: the text is what GetInlinePolicyForPermissionSet gives back. */
  inline_policy: string | null;
  created_at: number;
}

export interface PermissionSetManagedPoliciesTable {
  ps_id: string;
  policy_arn: string;
}

export interface AssignmentsTable {
  account_id: string;
  ps_id: string;
  principal_type: 'USER' | 'GROUP';
  principal_id: string;
  created_at: number;
}

export interface ProvisionedTable {
  ps_id: string;
  account_id: string;
}

/** The record of an asynchronous-looking request (AWS answers with a status to poll). */
export interface AccessRequestsTable {
  request_id: string;
  kind: 'provision' | 'assignment_create' | 'assignment_delete';
  /** The status structure the Describe…Status operation returns, as JSON. */
  status: string;
  created_at: number;
}

export interface RoleSessionsTable {
  token_hash: string;
  session_id: string;
  user_id: string;
  account_id: string;
  ps_id: string;
  /** When the portal session behind it passed MFA; null without MFA. */
  mfa_at: number | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** A hybrid activation. Deleted ones are kept (deleted_at) so that a registration can say so. */
export interface ActivationsTable {
  activation_id: string;
  /** The account of whoever made it; its instances belong there too. */
  account_id: string;
  /** SHA-256 of the ActivationCode: the code itself is never stored. */
  code_hash: string;
  description: string | null;
  default_instance_name: string | null;
  iam_role: string;
  registration_limit: number;
  registrations_count: number;
  expires_at: number;
  /** [{Key, Value}] as JSON: copied to each instance registered with it. */
  tags: string;
  created_at: number;
  deleted_at: number | null;
}

/** A managed instance (`mi-…`), its agent's key, what its agent last reported, and its connection. */
export interface InstancesTable {
  instance_id: string;
  resource_type: 'ManagedInstance' | 'EC2Instance';
  /** The account it belongs to: its activation's, or the one its identity document names. */
  account_id: string;
  /** A cloud instance's region, from its identity document; null: the server's (managed instances). */
  region: string | null;
  /** A cloud instance's last launch (pendingTime) in the identity document it registered with; null for managed instances. */
  launched_at: number | null;
  activation_id: string | null;
  iam_role: string | null;
  name: string | null;
  fingerprint: string;
  /** Base64 SPKI DER of the agent's Ed25519 key; null once deregistered (the key is revoked). */
  public_key: string | null;
  /** SHA-256 of the key, kept after revocation: a key registers once, ever. */
  public_key_hash: string;
  registered_at: number;
  deregistered_at: number | null;
  agent_version: string | null;
  platform_type: string | null;
  platform_name: string | null;
  platform_version: string | null;
  computer_name: string | null;
  ip_address: string | null;
  /** The agent's whole Inventory, as JSON. */
  inventory: string | null;
  last_ping_at: number | null;
  /** The server node holding the agent's control channel, and which connection; null when none. */
  connected_node: string | null;
  connection_id: string | null;
  connected_at: number | null;
  /** Until when connected_node's hold is good (services' clock): the holder renews it; past it, the hold is stale. */
  lease_expires_at: number | null;
}

/** A server node sharing the database (several nodes on PostgreSQL). */
export interface NodesTable {
  node_name: string;
  /** Where clients and agents reach this node itself. */
  advertise_url: string;
  version: string;
  started_at: number;
  /** Renewed every few seconds while it runs (services' clock). */
  heartbeat_at: number;
  /** A clean shutdown; null while running or after a crash. */
  stopped_at: number | null;
}

export interface SessionsTable {
  /** `{user}-{17 hex}`. */
  session_id: string;
  account_id: string;
  /** The instance id. */
  target: string;
  /** The caller's ARN (AWS's Owner), and its aws:userid (the session's `aws:ssmmessages:session-id` tag). */
  owner_arn: string;
  owner_user_id: string;
  document_name: string;
  reason: string | null;
  /** What runs on the instance (control.SessionWork), as JSON. */
  work: string;
  status: 'Connecting' | 'Connected' | 'Disconnected' | 'Terminating' | 'Terminated' | 'Failed';
  /** Why it ended. */
  details: string | null;
  started_at: number;
  ended_at: number | null;
  idle_timeout_ms: number;
  max_duration_ms: number | null;
  /** The node brokering it. */
  node_id: string;
  /** SHA-256 of the single-use token for the client's data channel; null once used. */
  token_hash: string | null;
  token_expires_at: number | null;
  /** What the agent signs to open the data channel; null for sessions from before records. */
  agent_nonce: string | null;
  /** recording.ts's RecordingPlan as JSON; null for sessions from before it. */
  recording: string | null;
  /** Several nodes: the nodes that carried the session before `node_id`, in order, as a JSON array; null while it never moved (record-segments.ts). */
  carriers: string | null;
  /** When a moved session's merged record was delivered (by the one node that claims it). */
  segments_delivered_at: number | null;
}

/** A part of one node's segment of a moved session's record (record-segments.ts): the record file's bytes, base64. */
export interface RecordSegmentsTable {
  session_id: string;
  node_id: string;
  part: number;
  body: string;
}

/** A Session document of an account (CreateDocument); AWS's own are not stored. */
export interface SessionDocumentsTable {
  account_id: string;
  name: string;
  created_at: number;
  /** The version StartSession uses (UpdateDocumentDefaultVersion), and the newest. */
  default_version: number;
  latest_version: number;
  /** [{Key, Value}] as JSON. */
  tags: string;
}

export interface SessionDocumentVersionsTable {
  account_id: string;
  name: string;
  version: number;
  /** The JSON content, exactly as given. */
  content: string;
  /** SHA-256 of the content, hex. */
  hash: string;
  version_name: string | null;
  target_type: string | null;
  created_at: number;
}

/** A log group (logs:CreateLogGroup) of an account. */
export interface LogGroupsTable {
  /** Random, 16 hex: what streams and events refer to. */
  group_id: string;
  account_id: string;
  /** Unique in the account; sorted by character codes on both databases. */
  name: string;
  created_at: number;
  /** Days its events are kept; null: for ever. */
  retention_days: number | null;
  /** {key: value} as JSON. */
  tags: string;
}

export interface LogStreamsTable {
  /** Random, 20 decimal digits: part of event ids and paging tokens. */
  stream_id: string;
  group_id: string;
  /** Unique in the group. */
  name: string;
  created_at: number;
  /** The earliest and latest event timestamps ever stored; last_event_time 0 while it has none. */
  first_event_time: number | null;
  last_event_time: number;
  last_ingestion_time: number | null;
  /** The UTF-8 bytes of its stored messages (less those purged). */
  stored_bytes: number;
  /** The seq of its last event: each event takes the next. */
  last_seq: number;
}

/** One event of a stream; read in (event_time, seq) order. */
export interface LogEventsTable {
  stream_id: string;
  event_time: number;
  /** Increasing within the stream, in the order events were stored. */
  seq: number;
  group_id: string;
  ingested_at: number;
  message: string;
  /** The message's UTF-8 bytes. */
  size: number;
}

/** An event rule (events:PutRule) of an account, on its one event bus. */
export interface EventRulesTable {
  account_id: string;
  name: string;
  /** The pattern's JSON text, as given (checked when put). */
  event_pattern: string;
  state: 'ENABLED' | 'DISABLED';
  description: string | null;
  created_at: number;
  updated_at: number;
}

/** A rule's target (events:PutTargets): a webhook URL or mailto: addresses. */
export interface EventTargetsTable {
  account_id: string;
  rule_name: string;
  target_id: string;
  /** https://… or mailto:…, as given. */
  arn: string;
  /** HttpParameters as JSON, sealed (headers may hold credentials); null: none. */
  http_parameters: string | null;
  max_retry_attempts: number;
  max_event_age_seconds: number;
  /** A webhook's HMAC key, sealed (SecretBox); null for mail. */
  signing_secret: string | null;
  created_at: number;
  updated_at: number;
}

/** One event on its way to one endpoint: queued, retried with backoff, then SUCCEEDED or FAILED. */
export interface EventDeliveriesTable {
  delivery_id: string;
  account_id: string;
  rule_name: string;
  target_id: string;
  /** The webhook URL, or the one address this delivery mails. */
  endpoint: string;
  event_id: string;
  source: string;
  detail_type: string;
  event_time: number;
  /** The event's JSON text: the exact bytes signed and sent at every attempt. */
  body: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attempts: number;
  /** 1 + the target's MaximumRetryAttempts when queued. */
  max_attempts: number;
  /** No attempt after this (MaximumEventAgeInSeconds after the event). */
  expires_at: number;
  created_at: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_error: string | null;
  /** The node delivering it now, until when (services' clock); null when nobody is. */
  claimed_by: string | null;
  claimed_until: number | null;
}

export interface InstanceTagsTable {
  instance_id: string;
  key: string;
  value: string;
}

/** An upload to the object store, kept until the store has it (objects/outbox.ts). */
export interface ObjectOutboxTable {
  id: string;
  bucket: string;
  object_key: string;
  /** The spool holding the file (DATA/spool/.spool-id): only a node with that spool can upload it; null for inline bytes. */
  spool_id: string | null;
  /** The file's name in DATA/spool; null for inline bytes. */
  spool_file: string | null;
  /** Inline bytes, base64; null for a spooled file, and once uploaded. */
  body: string | null;
  size: number;
  content_type: string;
  /** objects/store.ts Encryption as JSON; null: the store's default. */
  encryption: string | null;
  attempts: number;
  next_attempt_at: number;
  /** The last failure, for operators; kept once uploaded, as its history. */
  last_error: string | null;
  /** The worker uploading it now, until lease_until (services' clock; renewed while the upload runs). */
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  done_at: number | null;
}

/** A user whose identity an external source vouches for: (source, subject) → the Airlock user. */
export interface ExternalUsersTable {
  /** `oidc:{issuer}`, `ldap:{url}`, `saml:{entity id}`: a different source never matches. */
  source_key: string;
  /** The source's stable id: OIDC sub, LDAP DN, SAML NameID. */
  subject: string;
  user_id: string;
  last_sign_in_at: number;
}

/** A bearer token of the SCIM endpoint: only its hash is kept. */
export interface ScimTokensTable {
  token_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
}

/** A SAML assertion already used to sign in, kept until it would have expired anyway: replays are refused. */
export interface SamlUsedAssertionsTable {
  /** SHA-256 of the identity provider's entity id and the assertion's ID. */
  assertion_key: string;
  expires_at: number;
}

/** A browser sign-in at an external source in progress, keyed by the hash of the browser's binding cookie. */
export interface FederationFlowsTable {
  binding_hash: string;
  source_type: string;
  /** JSON sealed with the secret box (state, nonce, PKCE verifier, where to return). */
  sealed_state: string;
  expires_at: number;
}

export interface Database {
  settings: SettingsTable;
  external_users: ExternalUsersTable;
  federation_flows: FederationFlowsTable;
  scim_tokens: ScimTokensTable;
  saml_used_assertions: SamlUsedAssertionsTable;
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
  audit_event_resources: AuditEventResourcesTable;
  mfa_devices: MfaDevicesTable;
  auth_flows: AuthFlowsTable;
  webauthn_credentials: WebAuthnCredentialsTable;
  webauthn_registrations: WebAuthnRegistrationsTable;
  portal_sessions: PortalSessionsTable;
  trusted_devices: TrustedDevicesTable;
  throttles: ThrottlesTable;
  device_authorizations: DeviceAuthorizationsTable;
  accounts: AccountsTable;
  permission_sets: PermissionSetsTable;
  permission_set_managed_policies: PermissionSetManagedPoliciesTable;
  assignments: AssignmentsTable;
  provisioned: ProvisionedTable;
  access_requests: AccessRequestsTable;
  role_sessions: RoleSessionsTable;
  activations: ActivationsTable;
  instances: InstancesTable;
  nodes: NodesTable;
  instance_tags: InstanceTagsTable;
  sessions: SessionsTable;
  record_segments: RecordSegmentsTable;
  session_documents: SessionDocumentsTable;
  session_document_versions: SessionDocumentVersionsTable;
  object_outbox: ObjectOutboxTable;
  event_rules: EventRulesTable;
  event_targets: EventTargetsTable;
  event_deliveries: EventDeliveriesTable;
  log_groups: LogGroupsTable;
  log_streams: LogStreamsTable;
  log_events: LogEventsTable;
}
