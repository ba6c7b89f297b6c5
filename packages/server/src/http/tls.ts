// TLS material for the server. Any non-loopback listener must use TLS; when the operator supplies
// no certificate, the server keeps its own small CA in `{dataDir}/tls/` and issues itself a server
// certificate from it. Agents pin that CA (by its SHA-256 fingerprint) at registration, so the CA
// is created once and never replaced behind the operator's back; the server certificate is cheap
// and is reissued whenever it no longer fits (missing, near expiry, wrong names, other issuer).
//
// Files are written atomically (temporary name, fsync, rename), keys with mode 0600 in a 0700
// directory. Each key is written before its certificate, so an interrupted run leaves at worst a
// key without a certificate, which the next start treats as absent.

import { writeFileAtomically } from '../storage/files.js';
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 registers its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as X509 from '@peculiar/x509';

export interface EnsureServerCertificateOptions {
  readonly dataDir: string;
  /** DNS names and IP literals the certificate must cover; the first one is also its CN. */
  readonly hostnames: readonly string[];
  /** The current time, for tests; defaults to the clock. */
  readonly now?: Date;
}

export interface ServerCertificate {
  /** The server certificate, PEM. */
  readonly cert: string;
  /** The server's private key, PKCS#8 PEM. */
  readonly key: string;
  /** The CA certificate agents pin, PEM. */
  readonly ca: string;
  /** SHA-256 of the CA certificate, `AB:CD:…` as `openssl x509 -fingerprint -sha256` prints it. */
  readonly caFingerprint: string;
  /** Whether this call created the CA or the server certificate. */
  readonly generated: boolean;
}

export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

const DAY_MS = 86_400_000;
const CA_VALIDITY_YEARS = 10;
// The longest validity browsers and Apple platforms accept for a TLS server certificate is 398 days.
const SERVER_VALIDITY_DAYS = 397;
const RENEW_BEFORE_DAYS = 30;
// Certificates start slightly in the past so a client whose clock lags does not see them as not yet valid.
const BACKDATE_MS = 3_600_000;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' } as const;

interface Paths {
  readonly ca: string;
  readonly caKey: string;
  readonly server: string;
  readonly serverKey: string;
}

interface Issued {
  readonly cert: string;
  readonly key: string;
}

/**
 * Returns the server's certificate, key and CA from `{dataDir}/tls/`, creating the CA on first
 * use and reissuing the server certificate (with the same CA) when it is missing, expires within
 * 30 days, or does not cover every requested hostname.
 */
export async function ensureServerCertificate(options: EnsureServerCertificateOptions): Promise<ServerCertificate> {
  const now = options.now ?? new Date();
  const names = normalizeHostnames(options.hostnames);
  const dir = join(options.dataDir, 'tls');
  const paths: Paths = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    server: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone.
  await chmod(dir, 0o700);

  X509.cryptoProvider.set(webcrypto);
  const x509 = X509;
  let generated = false;
  let ca = await readCa(paths);
  if (ca === undefined) {
    ca = await createCa(x509, now);
    await writeFileAtomically(paths.caKey, ca.key, 0o600);
    await writeFileAtomically(paths.ca, ca.cert, 0o644);
    generated = true;
  }
  let server = await readServer(paths);
  if (server === undefined || !serverCertificateFits(x509, server, ca, names, now)) {
    server = await createServerCertificate(x509, ca, names, now);
    await writeFileAtomically(paths.serverKey, server.key, 0o600);
    await writeFileAtomically(paths.server, server.cert, 0o644);
    generated = true;
  }
  return { cert: server.cert, key: server.key, ca: ca.cert, caFingerprint: certificateFingerprint(ca.cert), generated };
}

/** SHA-256 of the certificate's DER: upper-case hex pairs joined by ':'. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * Reads an operator-supplied certificate (possibly followed by its chain) and private key, and
 * checks that both parse and that the key belongs to the certificate.
 */
export async function loadCertificateFiles(certPath: string, keyPath: string): Promise<CertificateFiles> {
  const cert = await readNamed(certPath, 'TLS certificate');
  const key = await readNamed(keyPath, 'TLS private key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`TLS certificate ${certPath} is not a PEM X.509 certificate: ${messageOf(error)}`, { cause: error });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`TLS private key ${keyPath} is not an unencrypted PEM private key: ${messageOf(error)}`, { cause: error });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(`TLS private key ${keyPath} does not match the certificate ${certPath}`);
  }
  return { cert, key };
}

// Hostnames ----------------------------------------------------------------------------------------

const DNS_NAME = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Lower-cases DNS names, writes IPv6 literals in canonical form, and drops duplicates. */
function normalizeHostnames(hostnames: readonly string[]): string[] {
  const names = new Set<string>();
  for (const hostname of hostnames) {
    const version = isIP(hostname);
    if (version === 6) {
      // A zone index (fe80::1%eth0) names an interface of this host; it cannot go into a certificate.
      if (hostname.includes('%')) throw new Error(`Cannot put the scoped IPv6 address ${hostname} in a certificate`);
      names.add(new URL(`https://[${hostname}]/`).hostname.slice(1, -1));
    } else if (version === 4) {
      names.add(hostname);
    } else {
      const name = hostname.toLowerCase();
      if (name.length > 253 || !DNS_NAME.test(name)) throw new Error(`Not a DNS name or IP address: ${JSON.stringify(hostname)}`);
      names.add(name);
    }
  }
  if (names.size === 0) throw new Error('A server certificate needs at least one hostname');
  return [...names];
}

// Reading what is on disk --------------------------------------------------------------------------

/** The CA, or undefined when ca.pem does not exist. A CA that exists but is unusable is an error, never replaced. */
async function readCa(paths: Paths): Promise<Issued | undefined> {
  const cert = await readIfExists(paths.ca);
  if (cert === undefined) return undefined;
  const key = await readIfExists(paths.caKey);
  if (key === undefined) {
    throw new Error(
      `${paths.ca} exists but ${paths.caKey} does not: restore the key, or delete ${paths.ca} to create a new CA (every agent must then be registered again)`,
    );
  }
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`The CA in ${paths.ca} / ${paths.caKey} does not parse: ${messageOf(error)}`, { cause: error });
  }
  if (!matches) throw new Error(`The CA key ${paths.caKey} does not match the CA certificate ${paths.ca}`);
  return { cert, key };
}

async function readServer(paths: Paths): Promise<Issued | undefined> {
  const cert = await readIfExists(paths.server);
  const key = await readIfExists(paths.serverKey);
  return cert === undefined || key === undefined ? undefined : { cert, key };
}

/** Whether the server certificate can be served as is: a damaged one is simply reissued. */
function serverCertificateFits(x509: typeof X509, server: Issued, ca: Issued, names: readonly string[], now: Date): boolean {
  try {
    const cert = new X509Certificate(server.cert);
    const caCert = new X509Certificate(ca.cert);
    if (!cert.checkPrivateKey(createPrivateKey(server.key))) return false;
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    // Node 20's X509Certificate gives validity only as display strings; read the dates from the DER.
    const { notBefore, notAfter } = new x509.X509Certificate(server.cert);
    if (notBefore.getTime() > now.getTime() || notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
    // subject: 'never' so that only the subjectAltName counts, as it does for TLS clients.
    return names.every((name) =>
      isIP(name) === 0 ? cert.checkHost(name, { subject: 'never' }) !== undefined : cert.checkIP(name) !== undefined,
    );
  } catch {
    return false;
  }
}

// Issuing ------------------------------------------------------------------------------------------

async function createCa(x509: typeof X509, now: Date): Promise<Issued> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    // The random suffix tells apart the CAs of different installations in a trust store.
    name: [{ CN: [`Airlock CA ${randomBytes(4).toString('hex')}`] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    signingAlgorithm: EC_SIGNATURE,
    keys,
    extensions: [
      // pathLen 0: this CA issues server certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: pemOf(cert), key: exportPkcs8(keys.privateKey) };
}

async function createServerCertificate(x509: typeof X509, ca: Issued, names: readonly string[], now: Date): Promise<Issued> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.key).export({ format: 'der', type: 'pkcs8' }),
    EC_KEY,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [names[0] ?? ''] }],
    // The CA's subject exactly as encoded, so that clients match issuer to CA byte for byte.
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_SIGNATURE,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => ({ type: isIP(name) === 0 ? ('dns' as const) : ('ip' as const), value: name })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert: pemOf(cert), key: exportPkcs8(keys.privateKey) };
}

/** 16 random bytes with the top bit clear: a positive INTEGER of full length (RFC 5280 §4.1.2.2). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function pemOf(cert: X509.X509Certificate): string {
  return `${cert.toString('pem').trim()}\n`;
}

function exportPkcs8(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

// @peculiar/x509 ------------------------------------------------------------------------------------

// Files --------------------------------------------------------------------------------------------

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readNamed(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${what} ${path} cannot be read: ${messageOf(error)}`, { cause: error });
  }
}


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
