/**
 * The server's configuration: one schema, read from (highest first) command-line flags,
 * `AIRLOCK_*` environment variables and a JSON config file, then validated as a whole. Every
 * error names the key and where it came from, so a wrong setting is found at start, not later.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { proxyTrust } from '../http/client-address.js';
import type { Encryption } from '../objects/store.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ServerConfig {
  readonly dataDir: string;
  readonly listen: ListenAddress;
  /** undefined: SQLite in dataDir. */
  readonly databaseUrl: string | undefined;
  /** undefined: mail goes to dataDir/outbox as .eml files. */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** The address people and agents reach the server at, for links in mail; undefined: the listener's own. */
  readonly publicUrl: string | undefined;
  /** The deployment's region, as it appears in ARNs. */
  readonly region: string;
  /** The management account's log group the audit trail is copied into; undefined: none. */
  readonly auditLogGroup: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** AIRLOCK_SECRET_KEY (environment only: a secret has no place on a command line); else DATA/secret.key. */
  readonly secretKey: string | undefined;
  /** Whether the listener must use TLS: every listener not on loopback. */
  readonly tls: boolean;
  /** Cloud join (EC2 instances registering with their identity document); undefined: off. */
  readonly cloudJoin: CloudJoinConfig | undefined;
  /** Where session recordings go: DATA/objects (the default), or an S3-protocol endpoint. */
  readonly objectStore: ObjectStoreConfig;
  /** This node's name among several sharing one PostgreSQL database; undefined: a name for this process only. */
  readonly nodeName: string | undefined;
  /** The URL that clients and agents reach this node itself at (not a load balancer); undefined: --public-url, else the listener's. */
  readonly advertiseUrl: string | undefined;
  /** The load balancers allowed to name the caller's address in X-Forwarded-For (addresses and CIDR blocks); empty: none. */
  readonly trustedProxies: readonly string[];
}

export type ObjectStoreConfig = { readonly kind: 'local' } | ({ readonly kind: 's3' } & S3ObjectStoreConfig);

export interface S3ObjectStoreConfig {
  /** undefined: AWS's endpoint for the region. */
  readonly endpoint: string | undefined;
  /** undefined: the SDK's chain (AWS_REGION, the profile). */
  readonly region: string | undefined;
  /** Bucket in the path (https://host/bucket/key), not the host name: most S3-compatible servers want it. */
  readonly forcePathStyle: boolean;
  /** undefined: the SDK's default chain (AWS_ACCESS_KEY_ID…, the profile, the instance's role). Never logged. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Asked of every upload that does not say otherwise; undefined: the bucket's default. */
  readonly encryption: Encryption | undefined;
}

export interface CloudJoinConfig {
  /** AWS's public certificates for instance identity documents (RSA or DSA keys). */
  readonly certificates: readonly X509Certificate[];
  /** The AWS accounts whose instances may join (12-digit ids). */
  readonly accounts: ReadonlySet<string>;
  /** Instances launched (pendingTime) longer ago than this may not join; undefined: no limit. */
  readonly maxAgeMs: number | undefined;
}

interface KeySpec {
  /** The config-file key and the flag (kebab-case of it). */
  readonly key: keyof RawConfig;
  readonly help: string;
}

type RawConfig = {
  dataDir?: string;
  listen?: string;
  databaseUrl?: string;
  smtpUrl?: string;
  mailFrom?: string;
  publicUrl?: string;
  region?: string;
  auditLogGroup?: string;
  tlsCert?: string;
  tlsKey?: string;
  cloudJoinCertificates?: string;
  cloudJoinAccounts?: string;
  cloudJoinMaxAge?: string;
  objectStore?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3ServerSideEncryption?: string;
  s3KmsKeyId?: string;
  nodeName?: string;
  advertiseUrl?: string;
  trustedProxies?: string;
};

export const CONFIG_KEYS: readonly KeySpec[] = [
  { key: 'dataDir', help: 'Directory for the database, keys, outbox and recordings (default ./.airlock-data).' },
  { key: 'listen', help: 'host:port to listen on (default 127.0.0.1:4100). Not on loopback: TLS.' },
  { key: 'databaseUrl', help: 'postgres://… to use PostgreSQL instead of SQLite in the data directory.' },
  { key: 'smtpUrl', help: 'smtp://user:pass@host:port (or smtps://) to send mail; default: .eml files in DATA/outbox.' },
  { key: 'mailFrom', help: 'From address of mail (default "Airlock <no-reply@airlock.local>").' },
  { key: 'publicUrl', help: 'The URL people reach the server at, for links (default from --listen).' },
  { key: 'region', help: 'Region name used in ARNs (default "local").' },
  { key: 'auditLogGroup', help: "A log group of the management account to copy every new audit record into (stream {account}_CloudTrail_{region}); default none." },
  { key: 'tlsCert', help: 'PEM certificate for TLS; without it a CA and certificate are made in the data directory.' },
  { key: 'tlsKey', help: 'PEM private key for --tls-cert.' },
  {
    key: 'cloudJoinCertificates',
    help: "Cloud join: PEM file(s), comma-separated, of AWS's public certificates for instance identity documents (the RSA-2048 one of each region). Off without it.",
  },
  { key: 'cloudJoinAccounts', help: 'Cloud join: the AWS account ids (12 digits, comma-separated) whose EC2 instances may join. Required with --cloud-join-certificates.' },
  { key: 'cloudJoinMaxAge', help: 'Cloud join: refuse instances launched longer ago than this (seconds, or 30m, 12h, 7d); default no limit.' },
  { key: 'objectStore', help: 'Where session recordings are kept: local (DATA/objects, the default) or s3.' },
  { key: 's3Endpoint', help: "S3: the endpoint URL of an S3-compatible server (http(s)://host:port); default AWS's for the region." },
  { key: 's3Region', help: 'S3: the region; default from the AWS SDK (AWS_REGION, the profile).' },
  { key: 's3ForcePathStyle', help: 'S3: true to address buckets in the path (host/bucket/key), as MinIO and most S3-compatible servers want; default false.' },
  { key: 's3AccessKeyId', help: "S3: the access key id; without it, the AWS SDK's default chain (environment, profile, instance role)." },
  { key: 's3SecretAccessKey', help: 'S3: the secret access key for --s3-access-key-id; better in AIRLOCK_S3_SECRET_ACCESS_KEY or the config file than on a command line.' },
  { key: 's3ServerSideEncryption', help: "S3: AES256 or aws:kms, asked of every upload; default the bucket's own." },
  { key: 's3KmsKeyId', help: 'S3: the KMS key (id, alias or ARN) for aws:kms; default the account\'s aws/s3 key.' },
  { key: 'nodeName', help: 'Several nodes on one PostgreSQL database: this node\'s name, unique and kept across restarts (letters, digits, . _ -). Default: none (one node).' },
  {
    key: 'trustedProxies',
    help: 'Load balancers whose X-Forwarded-For names the caller (comma-separated addresses or CIDR blocks, e.g. 10.0.0.0/8). Per-address lockouts and rate limits then count each caller. Default none: the peer address counts.',
  },
  { key: 'advertiseUrl', help: 'Several nodes: the URL clients and agents reach this node itself at, not the load balancer (default --public-url, else the listener).' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const flagOf = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envOf = (key: string): string => `AIRLOCK_${flagOf(key).replace(/-/g, '_').toUpperCase()}`;

const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * @param flags  flag name (kebab-case, without dashes) → value, from the command line
 * @param env    the process environment
 */
export function loadConfig(flags: ReadonlyMap<string, string>, env: Readonly<Record<string, string | undefined>>): ServerConfig {
  const known = new Set(['config', ...CONFIG_KEYS.map((spec) => flagOf(spec.key))]);
  for (const flag of flags.keys()) {
    if (!known.has(flag)) throw new ConfigError(`--${flag} is not a server option. Options: ${[...known].map((k) => `--${k}`).join(', ')}.`);
  }
  const file = flags.get('config') ?? env['AIRLOCK_CONFIG'];
  const fromFile = file === undefined ? {} : readConfigFile(file);
  const raw: RawConfig = {};
  const origin = new Map<keyof RawConfig, string>();
  for (const { key } of CONFIG_KEYS) {
    const sources: [string | undefined, string][] = [
      [flags.get(flagOf(key)), `--${flagOf(key)}`],
      [env[envOf(key)], envOf(key)],
      [fromFile[key], `${file ?? ''}: ${key}`],
    ];
    const found = sources.find(([value]) => value !== undefined);
    if (found?.[0] !== undefined) {
      raw[key] = found[0];
      origin.set(key, found[1]);
    }
  }
  return { ...validate(raw, (key) => origin.get(key) ?? key), secretKey: env['AIRLOCK_SECRET_KEY'] };
}

function readConfigFile(path: string): RawConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${path}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${path} must hold a JSON object.`);
  const result: RawConfig = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = CONFIG_KEYS.find((candidate) => candidate.key === key);
    if (spec === undefined) throw new ConfigError(`${path}: ${key} is not a server setting. Settings: ${CONFIG_KEYS.map((k) => k.key).join(', ')}.`);
    if (typeof value !== 'string') throw new ConfigError(`${path}: ${key} must be a string.`);
    result[spec.key] = value;
  }
  return result;
}

function validate(raw: RawConfig, where: (key: keyof RawConfig) => string): Omit<ServerConfig, 'secretKey'> {
  const listen = parseListen(raw.listen ?? '127.0.0.1:4100', where('listen'));
  const tls = !LOOPBACK.has(listen.host);
  if (raw.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(raw.databaseUrl)) {
    throw new ConfigError(`${where('databaseUrl')} must be a postgres:// URL (SQLite needs no setting).`);
  }
  if (raw.smtpUrl !== undefined && !/^smtps?:\/\/[^/]+/.test(raw.smtpUrl)) {
    throw new ConfigError(`${where('smtpUrl')} must look like smtp://user:password@host:587 or smtps://host:465.`);
  }
  const region = raw.region ?? 'local';
  if (!REGION.test(region)) throw new ConfigError(`${where('region')} must be lower-case letters, digits and hyphens, like us-east-1.`);
  if (raw.auditLogGroup !== undefined && !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(raw.auditLogGroup)) {
    throw new ConfigError(`${where('auditLogGroup')} must be a log group name: 1 to 512 of letters, digits and . - _ / #.`);
  }
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined)) {
    throw new ConfigError(`--tls-cert and --tls-key go together; ${raw.tlsCert === undefined ? where('tlsKey') : where('tlsCert')} is given alone.`);
  }
  const publicUrl = raw.publicUrl?.replace(/\/+$/, '');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`${where('publicUrl')} must be an http:// or https:// URL.`);
  const advertiseUrl = raw.advertiseUrl?.replace(/\/+$/, '');
  if (advertiseUrl !== undefined && !/^https?:\/\/[^/]+$/.test(advertiseUrl)) throw new ConfigError(`${where('advertiseUrl')} must be an http:// or https:// URL with no path, like https://node-a.example.com:4100.`);
  if (raw.nodeName !== undefined) {
    if (!NODE_NAME.test(raw.nodeName)) throw new ConfigError(`${where('nodeName')} must be 1 to 63 of letters, digits, . _ and -.`);
    // Node names and leases live in the shared database: SQLite is one node's alone.
    if (raw.databaseUrl === undefined) throw new ConfigError(`${where('nodeName')} needs --database-url: several nodes share one PostgreSQL database.`);
  }
  const trustedProxies = (raw.trustedProxies ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    proxyTrust(trustedProxies);
  } catch (error) {
    throw new ConfigError(`${where('trustedProxies')}: ${(error as Error).message}.`);
  }
  return {
    dataDir: resolve(raw.dataDir ?? '.airlock-data'),
    listen,
    databaseUrl: raw.databaseUrl,
    smtpUrl: raw.smtpUrl,
    mailFrom: raw.mailFrom ?? 'Airlock <no-reply@airlock.local>',
    publicUrl,
    region,
    auditLogGroup: raw.auditLogGroup,
    tlsCert: raw.tlsCert,
    tlsKey: raw.tlsKey,
    tls: tls || raw.tlsCert !== undefined,
    cloudJoin: cloudJoinConfig(raw, where),
    objectStore: objectStoreConfig(raw, where),
    nodeName: raw.nodeName,
    advertiseUrl,
    trustedProxies,
  };
}

const S3_KEYS = ['s3Endpoint', 's3Region', 's3ForcePathStyle', 's3AccessKeyId', 's3SecretAccessKey', 's3ServerSideEncryption', 's3KmsKeyId'] as const;

function objectStoreConfig(raw: RawConfig, where: (key: keyof RawConfig) => string): ObjectStoreConfig {
  const kind = raw.objectStore ?? 'local';
  if (kind !== 'local' && kind !== 's3') throw new ConfigError(`${where('objectStore')} must be local or s3; it is "${kind}".`);
  if (kind === 'local') {
    const stray = S3_KEYS.find((key) => raw[key] !== undefined);
    if (stray !== undefined) throw new ConfigError(`${where(stray)} is an S3 setting, and the object store is local: give --object-store s3 too.`);
    return { kind };
  }
  const endpoint = raw.s3Endpoint?.replace(/\/+$/, '');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+$/.test(endpoint)) throw new ConfigError(`${where('s3Endpoint')} must be an http:// or https:// URL with no path, like https://minio.example.com:9000.`);
  if (raw.s3Region !== undefined && !REGION.test(raw.s3Region)) throw new ConfigError(`${where('s3Region')} must be lower-case letters, digits and hyphens, like eu-west-1.`);
  const pathStyle = raw.s3ForcePathStyle ?? 'false';
  if (pathStyle !== 'true' && pathStyle !== 'false') throw new ConfigError(`${where('s3ForcePathStyle')} must be true or false.`);
  if ((raw.s3AccessKeyId === undefined) !== (raw.s3SecretAccessKey === undefined)) {
    // Name where each came from, never the secret itself.
    throw new ConfigError(`--s3-access-key-id and --s3-secret-access-key go together; ${raw.s3AccessKeyId === undefined ? where('s3SecretAccessKey') : where('s3AccessKeyId')} is given alone.`);
  }
  const credentials = raw.s3AccessKeyId === undefined || raw.s3SecretAccessKey === undefined ? undefined : { accessKeyId: raw.s3AccessKeyId, secretAccessKey: raw.s3SecretAccessKey };
  if (credentials !== undefined && (credentials.accessKeyId.trim() === '' || credentials.secretAccessKey === '')) {
    throw new ConfigError(`${credentials.secretAccessKey === '' ? where('s3SecretAccessKey') : where('s3AccessKeyId')} is empty.`);
  }
  return { kind, endpoint, region: raw.s3Region, forcePathStyle: pathStyle === 'true', credentials, encryption: encryptionConfig(raw, where) };
}

function encryptionConfig(raw: RawConfig, where: (key: keyof RawConfig) => string): Encryption | undefined {
  const algorithm = raw.s3ServerSideEncryption;
  if (algorithm === undefined) {
    if (raw.s3KmsKeyId !== undefined) throw new ConfigError(`${where('s3KmsKeyId')} needs --s3-server-side-encryption aws:kms.`);
    return undefined;
  }
  if (algorithm === 'AES256') {
    if (raw.s3KmsKeyId !== undefined) throw new ConfigError(`${where('s3KmsKeyId')} goes with aws:kms, and ${where('s3ServerSideEncryption')} is AES256.`);
    return { algorithm };
  }
  if (algorithm !== 'aws:kms') throw new ConfigError(`${where('s3ServerSideEncryption')} must be AES256 or aws:kms; it is "${algorithm}".`);
  const kmsKeyId = raw.s3KmsKeyId?.trim();
  if (kmsKeyId === '') throw new ConfigError(`${where('s3KmsKeyId')} is empty.`);
  return kmsKeyId === undefined ? { algorithm } : { algorithm, kmsKeyId };
}

const ACCOUNT_ID = /^\d{12}$/;
const DURATION = /^(\d{1,9})([smhd]?)$/;
const UNIT_MS: Readonly<Record<string, number>> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function cloudJoinConfig(raw: RawConfig, where: (key: keyof RawConfig) => string): CloudJoinConfig | undefined {
  if (raw.cloudJoinCertificates === undefined) {
    for (const key of ['cloudJoinAccounts', 'cloudJoinMaxAge'] as const) {
      if (raw[key] !== undefined) throw new ConfigError(`${where(key)} is a cloud join setting, and cloud join is off: give --cloud-join-certificates too.`);
    }
    return undefined;
  }
  const files = raw.cloudJoinCertificates.split(',').map((file) => file.trim()).filter((file) => file !== '');
  if (files.length === 0) throw new ConfigError(`${where('cloudJoinCertificates')} names no file.`);
  const certificates = files.flatMap((file) => readCertificates(file, where('cloudJoinCertificates')));
  if (raw.cloudJoinAccounts === undefined) {
    throw new ConfigError(
      `${where('cloudJoinCertificates')} turns cloud join on, and it needs --cloud-join-accounts: AWS signs the identity documents of every account's instances alike, so without an allow-list any EC2 instance anywhere could join.`,
    );
  }
  const accounts = new Set(raw.cloudJoinAccounts.split(',').map((account) => account.trim()).filter((account) => account !== ''));
  if (accounts.size === 0) throw new ConfigError(`${where('cloudJoinAccounts')} names no account.`);
  for (const account of accounts) {
    if (!ACCOUNT_ID.test(account)) throw new ConfigError(`${where('cloudJoinAccounts')}: "${account}" is not an AWS account id (12 digits).`);
  }
  let maxAgeMs: number | undefined;
  if (raw.cloudJoinMaxAge !== undefined) {
    const match = DURATION.exec(raw.cloudJoinMaxAge.trim());
    maxAgeMs = match === null ? 0 : Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 1000);
    if (maxAgeMs <= 0) throw new ConfigError(`${where('cloudJoinMaxAge')} must be a positive number of seconds, or like 30m, 12h, 7d; it is "${raw.cloudJoinMaxAge}".`);
  }
  return { certificates, accounts, maxAgeMs };
}

function readCertificates(file: string, where: string): X509Certificate[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where}: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${where}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  return blocks.map((block, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(`${where}: certificate ${index + 1} of ${file} is not a valid X.509 certificate: ${error instanceof Error ? error.message : String(error)}.`);
    }
    const type = certificate.publicKey.asymmetricKeyType;
    if (type !== 'rsa' && type !== 'dsa') throw new ConfigError(`${where}: certificate ${index + 1} of ${file} has a ${type ?? 'unknown'} key; AWS signs identity documents with RSA or DSA.`);
    return certificate;
  });
}

function parseListen(text: string, where: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(`${where} must be host:port, like 127.0.0.1:4100 or [::1]:4100; it is "${text}".`);
  }
  if (host !== 'localhost' && isIP(host) === 0 && !/^[a-zA-Z0-9.-]+$/.test(host)) throw new ConfigError(`${where}: "${host}" is not a host name or IP address.`);
  return { host, port };
}
