/**
 * `airlock-agent register`: make a key pair, register it with a hybrid activation
 * (ssm:RegisterManagedInstance, unsigned: the activation code is the credential) or, on an EC2
 * instance, with the instance identity document AWS signs (ssm:RegisterEC2Instance, cloud
 * join), and save the instance id, the private key and the pinned CA in the state directory.
 */
import { hostname } from 'node:os';
import { apiUrl, isHttps, normalizeEndpoint } from './endpoint.js';
import { postJson, type JsonResponse } from './http.js';
import { generateKeyPair } from './keys.js';
import { MetadataError, readInstanceIdentity, type InstanceIdentity } from './metadata.js';
import { deregisteredAt, prepareStateDir, readRegistration, saveRegistration, type Registration } from './state.js';
import { describeNetworkError, parseCaBundle } from './tls.js';
import { AGENT_VERSION } from './version.js';

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(
    message: string,
    /** The server's error code (`__type`), or a local one: AlreadyRegistered, NetworkError, MetadataError, BadResponse. */
    readonly code: string,
  ) {
    super(message);
  }
}

/** A hybrid activation's id and code. */
export interface ActivationCredential {
  readonly activationId: string;
  readonly activationCode: string;
  readonly cloud?: undefined;
}

/** Cloud join: the identity document from the instance metadata service. */
export interface CloudCredential {
  readonly cloud: {
    /** Default http://169.254.169.254. */
    readonly metadataUrl?: string;
    readonly timeoutMs?: number;
    /** Told what the metadata service said (the instance, tags left out). */
    readonly onIdentity?: (identity: InstanceIdentity) => void;
  };
  readonly activationId?: undefined;
  readonly activationCode?: undefined;
}

export type RegisterOptions = CommonRegisterOptions & (ActivationCredential | CloudCredential);

export interface CommonRegisterOptions {
  readonly endpointUrl: string;
  readonly stateDir: string;
  /** The CA bundle to pin (PEM text), for an https endpoint. */
  readonly caPem?: string | undefined;
  /** Where caPem came from, for messages. */
  readonly caSource?: string;
  /** Replace an existing registration in the state directory. */
  readonly force?: boolean;
  /** What the server records as the instance's fingerprint; defaults to the host name. */
  readonly fingerprint?: string;
  readonly timeoutMs?: number;
  /** The transport, for tests; defaults to node:http(s). */
  readonly post?: typeof postJson;
}

export interface RegisterResult {
  readonly registration: Registration;
  /** Whether an earlier registration was replaced (--force). */
  readonly replaced: boolean;
}

const INSTANCE_ID = /^(mi|i)-[0-9a-f]{8,32}$/;

export async function register(options: RegisterOptions): Promise<RegisterResult> {
  const endpointUrl = normalizeEndpoint(options.endpointUrl);
  const ca = options.caPem === undefined ? undefined : parseCaBundle(options.caPem, options.caSource ?? 'The CA file');
  if (ca !== undefined && !isHttps(endpointUrl)) throw new RegistrationError('--ca-file pins the CA of an https:// endpoint; this endpoint is plain http.', 'InvalidArguments');

  // Before anything reaches the server: an activation's registrations are limited.
  const existing = await readRegistration(options.stateDir);
  if (existing !== undefined && options.force !== true) {
    const gone = await deregisteredAt(options.stateDir);
    throw new RegistrationError(
      `${options.stateDir} already holds the registration of ${existing.instanceId} with ${existing.endpointUrl}` +
        `${gone === undefined ? '' : ` (deregistered ${gone})`}. Give --force to replace it, or another --state-dir for a second agent on this host.`,
      'AlreadyRegistered',
    );
  }
  // Fail on an unwritable directory now, not after the server has counted the registration.
  await prepareStateDir(options.stateDir);

  const keys = generateKeyPair();
  const post = options.post ?? postJson;
  const common = { PublicKey: keys.publicKey, PublicKeyType: 'Ed25519', Fingerprint: (options.fingerprint ?? hostname()).slice(0, 256) || 'unknown' };
  let operation: string;
  let payload: Record<string, unknown>;
  if (options.cloud !== undefined) {
    let identity: InstanceIdentity;
    try {
      identity = await readInstanceIdentity(options.cloud);
    } catch (error) {
      if (error instanceof MetadataError) throw new RegistrationError(error.message, 'MetadataError');
      throw error;
    }
    options.cloud.onIdentity?.(identity);
    operation = 'RegisterEC2Instance';
    payload = {
      IdentityDocument: identity.document,
      IdentityDocumentSignature: identity.signature,
      SignatureFormat: 'PKCS7',
      ...common,
      ...(identity.tags === undefined ? {} : { Tags: identity.tags }),
    };
  } else {
    operation = 'RegisterManagedInstance';
    payload = { ActivationId: options.activationId, ActivationCode: options.activationCode, ...common };
  }
  let response: JsonResponse;
  try {
    response = await post(apiUrl(endpointUrl, 'ssm', operation), payload, { caPem: ca?.pem, timeoutMs: options.timeoutMs ?? 30_000, userAgent: `airlock-agent/${AGENT_VERSION}` });
  } catch (error) {
    throw new RegistrationError(`Cannot reach ${endpointUrl}: ${describeNetworkError(error, ca !== undefined)}`, 'NetworkError');
  }
  const instanceId = instanceIdFrom(response, operation, options.activationCode);
  const registration: Registration = {
    endpointUrl,
    instanceId,
    registeredAt: new Date().toISOString(),
    ...(ca === undefined ? {} : { caFingerprints: ca.fingerprints }),
  };
  await saveRegistration(options.stateDir, registration, keys.privateKeyPem, ca?.pem);
  return { registration, replaced: existing !== undefined };
}

function instanceIdFrom(response: JsonResponse, operation: string, activationCode: string | undefined): string {
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
  if (response.status !== 200) {
    const type = typeof body['__type'] === 'string' ? body['__type'] : `HTTP ${response.status}`;
    const message = typeof body['message'] === 'string' ? body['message'] : 'the server gave no reason';
    // The server should never echo the code; make sure it cannot reach the log if it does.
    throw new RegistrationError(`Registration refused: ${type}: ${activationCode === undefined ? message : message.split(activationCode).join('***')}`, type);
  }
  const instanceId = body['InstanceId'];
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    throw new RegistrationError(`The server answered ${operation} without a valid InstanceId; is this an Airlock server?`, 'BadResponse');
  }
  return instanceId;
}
