/**
 * A real OpenLDAP server for tests: Debian's slapd with its own configuration, database and
 * loopback port in a temporary directory, seeded from LDIF with slapadd, optionally with a
 * certificate for StartTLS and ldaps. Nothing of the machine's LDAP configuration is used.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { temporaryDirectory } from './files.js';
import { freePort } from './sshd.js';

export const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

export interface TestSlapd {
  readonly url: string;
  /** ldaps:// on another port, when started with TLS. */
  readonly ldapsUrl: string | undefined;
  /** The PEM certificate the server presents (self-signed for 127.0.0.1), when started with TLS. */
  readonly certificate: string | undefined;
  stop(): Promise<void>;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts slapd for `suffix` with the entries of `ldif`; `rootPassword` binds as cn=admin,{suffix}. */
export async function startSlapd(options: { suffix: string; rootPassword: string; ldif: string; tls?: boolean }): Promise<TestSlapd> {
  const directory = await temporaryDirectory();
  const path = (name: string): string => join(directory.path, name);
  await mkdir(path('data'), { mode: 0o700 });
  let certificate: string | undefined;
  if (options.tls === true) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path('key.pem'), '-out', path('cert.pem')], { stdio: 'ignore', timeout: 10_000 });
    certificate = await readFile(path('cert.pem'), 'utf8');
  }
  const config = [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((schema) => `include /etc/ldap/schema/${schema}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${path('slapd.pid')}`,
    ...(certificate === undefined ? [] : [`TLSCertificateFile ${path('cert.pem')}`, `TLSCertificateKeyFile ${path('key.pem')}`]),
    'database mdb',
    'maxsize 16777216',
    `suffix "${options.suffix}"`,
    `rootdn "cn=admin,${options.suffix}"`,
    `rootpw "${options.rootPassword}"`,
    `directory ${path('data')}`,
    // Passwords: only for binding. Everything else: readable by a bound account, not anonymously.
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
  await writeFile(path('slapd.conf'), config);
  await writeFile(path('seed.ldif'), options.ldif);
  try {
    execFileSync(SLAPADD, ['-f', path('slapd.conf'), '-l', path('seed.ldif')], { stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    throw new Error(`slapadd refused the seed: ${String((error as { stderr?: unknown }).stderr)}`);
  }
  const port = await freePort();
  const tlsPort = certificate === undefined ? undefined : await freePort();
  const listeners = [`ldap://127.0.0.1:${port}/`, ...(tlsPort === undefined ? [] : [`ldaps://127.0.0.1:${tlsPort}/`])];
  const child: ChildProcess = spawn(SLAPD, ['-f', path('slapd.conf'), '-h', listeners.join(' '), '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // Bounded: 100 looks, 100 ms apart.
    let listening = false;
    for (let attempt = 0; attempt < 100 && !listening; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`slapd exited (${String(child.exitCode)}): ${errors}`);
      listening = await accepts(port);
      if (!listening) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!listening) throw new Error(`slapd did not listen on ${String(port)} within 10 s: ${errors}`);
  } catch (error) {
    child.kill('SIGKILL');
    await directory.remove();
    throw error;
  }
  return {
    url: `ldap://127.0.0.1:${port}`,
    ldapsUrl: tlsPort === undefined ? undefined : `ldaps://127.0.0.1:${tlsPort}`,
    certificate,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await directory.remove();
    },
  };
}
