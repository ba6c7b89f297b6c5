/**
 * A stand-in for the EC2 instance metadata service, for cloud join tests: IMDSv2 only (a token
 * from `PUT /latest/api/token` with a TTL header, then every GET carries it; none or a wrong one
 * is a 401), on loopback, serving an instance identity document signed with a test certificate.
 *
 * The signing is the `openssl` CLI's, never Airlock's code: the server's verifier is tested
 * against an independent implementation. The PKCS7 is made as AWS serves it: a CMS SignedData
 * with the document embedded, signed attributes (contentType, signingTime, messageDigest), no
 * certificates, BER with indefinite lengths (`openssl cms -sign -stream`), base64 in 76-column
 * lines without PEM header lines.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { temporaryDirectory } from './files.js';

/** Runs openssl with `args`, feeding `input` on stdin; resolves with stdout. */
export function openssl(args: readonly string[], input?: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      reject(new Error(`openssl could not be started (is it installed?): ${error.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`openssl ${args.join(' ')} exited with ${code ?? 'a signal'}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    // A command that exits before reading its input closes the pipe: its exit status says why.
    child.stdin.on('error', () => undefined);
    if (input === undefined) child.stdin.end();
    else child.stdin.end(input);
  });
}

export interface IdentitySignerOptions {
  /** RSA 2048 (as AWS's /rsa2048 and /signature) or DSA (as AWS's /pkcs7). Default rsa. */
  readonly keyType?: 'rsa' | 'dsa';
  /** The certificate's subject; default one like AWS's. */
  readonly subject?: string;
}

/** A key and self-signed certificate made with openssl, standing in for AWS's regional one. */
export class IdentitySigner {
  private constructor(
    private readonly directory: { path: string; remove: () => Promise<void> },
    readonly keyType: 'rsa' | 'dsa',
    readonly certificateFile: string,
    readonly keyFile: string,
    readonly certificatePem: string,
  ) {}

  static async create(options: IdentitySignerOptions = {}): Promise<IdentitySigner> {
    const directory = await temporaryDirectory('airlock-imds-');
    const keyType = options.keyType ?? 'rsa';
    const keyFile = join(directory.path, 'key.pem');
    const certificateFile = join(directory.path, 'certificate.pem');
    const subject = options.subject ?? `/C=US/ST=Washington State/L=Seattle/O=Airlock Test Identity ${randomBytes(4).toString('hex')}`;
    try {
      if (keyType === 'rsa') {
        await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
      } else {
        const parameters = join(directory.path, 'dsa-parameters.pem');
        await openssl(['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:2048', '-out', parameters]);
        await openssl(['genpkey', '-paramfile', parameters, '-out', keyFile]);
      }
      await openssl(['req', '-x509', '-new', '-key', keyFile, '-out', certificateFile, '-days', '3650', '-sha256', '-subj', subject]);
      return new IdentitySigner(directory, keyType, certificateFile, keyFile, await readFile(certificateFile, 'utf8'));
    } catch (error) {
      await directory.remove();
      throw error;
    }
  }

  /**
   * A CMS SignedData embedding `document`, as AWS serves it: BER, signed attributes, no
   * certificates. `digest` sha256 (the /rsa2048 form) or sha1 (the /pkcs7 form); `der` for
   * definite lengths; `embedCertificate` to carry the signer's certificate (AWS's do not).
   */
  pkcs7(document: string | Buffer, options: { digest?: 'sha256' | 'sha1'; der?: boolean; embedCertificate?: boolean } = {}): Promise<Buffer> {
    const args = ['cms', '-sign', '-binary', '-nodetach', '-outform', 'DER', '-md', options.digest ?? 'sha256', '-signer', this.certificateFile, '-inkey', this.keyFile];
    if (options.der !== true) args.push('-stream');
    if (options.embedCertificate !== true) args.push('-nocerts');
    return openssl(args, document);
  }

  /** The bare RSA PKCS#1 v1.5 SHA-256 signature over `document` (the /signature form). */
  rsaSignature(document: string | Buffer): Promise<Buffer> {
    return openssl(['dgst', '-sha256', '-sign', this.keyFile], document);
  }

  remove(): Promise<void> {
    return this.directory.remove();
  }
}

/** What goes into a test identity document. */
export interface InstanceIdentityFields {
  readonly accountId: string;
  readonly instanceId: string;
  readonly region: string;
  readonly availabilityZone?: string;
  readonly privateIp?: string;
  /** When the instance launched; default a minute ago. */
  readonly pendingTime?: Date;
  readonly instanceType?: string;
  readonly imageId?: string;
  readonly architecture?: string;
}

/** An identity document as the metadata service prints it: AWS's field order and spacing, no final newline. */
export function identityDocument(fields: InstanceIdentityFields): string {
  const pendingTime = (fields.pendingTime ?? new Date(Date.now() - 60_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const entries: [string, string | null][] = [
    ['accountId', fields.accountId],
    ['architecture', fields.architecture ?? 'x86_64'],
    ['availabilityZone', fields.availabilityZone ?? `${fields.region}a`],
    ['billingProducts', null],
    ['devpayProductCodes', null],
    ['marketplaceProductCodes', null],
    ['imageId', fields.imageId ?? 'ami-0123456789abcdef0'],
    ['instanceId', fields.instanceId],
    ['instanceType', fields.instanceType ?? 't3.micro'],
    ['kernelId', null],
    ['pendingTime', pendingTime],
    ['privateIp', fields.privateIp ?? '10.0.0.10'],
    ['ramdiskId', null],
    ['region', fields.region],
    ['version', '2017-09-30'],
  ];
  return `{\n${entries.map(([key, value]) => `  ${JSON.stringify(key)} : ${JSON.stringify(value)}`).join(',\n')}\n}`;
}

/** Base64 in 76-column lines, as the metadata service serves signatures. */
export function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

export interface MetadataServiceOptions {
  readonly signer: IdentitySigner;
  readonly identity: InstanceIdentityFields;
  /** The instance's tags, served when "tags in instance metadata" is on; undefined: off (404). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** What one request looked like, for assertions. */
export interface MetadataRequest {
  readonly method: string;
  readonly path: string;
  readonly token: 'none' | 'valid' | 'invalid';
}

/** What the service serves at the identity endpoints; tests may replace any of it. */
export interface ServedIdentity {
  document: string;
  /** base64 lines: /rsa2048 */
  rsa2048: string;
  /** base64 lines: /pkcs7 (here signed with the same key, SHA-1) */
  pkcs7: string;
  /** base64: /signature (RSA keys only; empty for DSA) */
  signature: string;
}

const MAX_TTL_SECONDS = 21_600;
const IDENTITY = '/latest/dynamic/instance-identity/';
const TAGS = '/latest/meta-data/tags/instance';

export class MetadataService {
  readonly requests: MetadataRequest[] = [];
  private readonly tokens = new Map<string, number>();
  private tags: Readonly<Record<string, string>> | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly signer: IdentitySigner,
    /** What is served now; assign fields to serve something else (a forged document…). */
    public served: ServedIdentity,
    tags: Readonly<Record<string, string>> | undefined,
  ) {
    this.tags = tags;
  }

  /** Signs a document for `identity` with `signer` in the three forms. */
  static async sign(signer: IdentitySigner, identity: InstanceIdentityFields | string): Promise<ServedIdentity> {
    const document = typeof identity === 'string' ? identity : identityDocument(identity);
    const [rsa2048, pkcs7, signature] = await Promise.all([
      signer.pkcs7(document),
      signer.pkcs7(document, { digest: 'sha1' }),
      signer.keyType === 'rsa' ? signer.rsaSignature(document) : Promise.resolve(Buffer.alloc(0)),
    ]);
    return { document, rsa2048: base64Lines(rsa2048), pkcs7: base64Lines(pkcs7), signature: signature.toString('base64') };
  }

  static async start(options: MetadataServiceOptions): Promise<MetadataService> {
    const served = await MetadataService.sign(options.signer, options.identity);
    const holder: { service?: MetadataService } = {};
    const server = createServer((request, response) => {
      holder.service?.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const service = new MetadataService(server, `http://127.0.0.1:${port}`, options.signer, served, options.tags);
    holder.service = service;
    return service;
  }

  /** Re-signs for another identity (a relaunch: a later pendingTime…). */
  async setIdentity(identity: InstanceIdentityFields | string): Promise<void> {
    this.served = await MetadataService.sign(this.signer, identity);
  }

  setTags(tags: Readonly<Record<string, string>> | undefined): void {
    this.tags = tags;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    request.resume();
    const [status, body] = this.answer(request, response);
    response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  /** The status and body for one request. */
  private answer(request: IncomingMessage, response: ServerResponse): [number, string] {
    const path = new URL(request.url ?? '/', 'http://imds').pathname;
    if (request.method === 'PUT') {
      this.requests.push({ method: 'PUT', path, token: 'none' });
      if (path !== '/latest/api/token') return [404, 'Not Found'];
      // As EC2's: a token request that went through a proxy is refused.
      if (request.headers['x-forwarded-for'] !== undefined) return [403, 'Forbidden'];
      const ttl = request.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const seconds = typeof ttl === 'string' && /^\d{1,5}$/.test(ttl) ? Number(ttl) : NaN;
      if (!(seconds >= 1 && seconds <= MAX_TTL_SECONDS)) return [400, 'Bad Request'];
      const token = randomBytes(42).toString('base64');
      this.tokens.set(token, Date.now() + seconds * 1000);
      response.setHeader('x-aws-ec2-metadata-token-ttl-seconds', String(seconds));
      return [200, token];
    }
    const header = request.headers['x-aws-ec2-metadata-token'];
    const expires = typeof header === 'string' ? this.tokens.get(header) : undefined;
    const token = header === undefined ? 'none' : expires !== undefined && expires > Date.now() ? 'valid' : 'invalid';
    this.requests.push({ method: request.method ?? '', path, token });
    if (request.method !== 'GET') return [405, 'Method Not Allowed'];
    // IMDSv2 required: no token, or a wrong or expired one, is unauthorized.
    if (token !== 'valid') return [401, 'Unauthorized'];
    const { served, tags } = this;
    const identity = new Map([
      ['document', served.document],
      ['rsa2048', served.rsa2048],
      ['pkcs7', served.pkcs7],
      ['signature', served.signature],
    ]);
    const found = path.startsWith(IDENTITY) ? identity.get(path.slice(IDENTITY.length)) : undefined;
    if (found !== undefined) return [200, found];
    if (tags === undefined) return [404, 'Not Found'];
    if (path === TAGS || path === `${TAGS}/`) return [200, Object.keys(tags).join('\n')];
    const key = path.startsWith(`${TAGS}/`) ? decodeURIComponent(path.slice(TAGS.length + 1)) : undefined;
    const value = key !== undefined && Object.hasOwn(tags, key) ? tags[key] : undefined;
    return value === undefined ? [404, 'Not Found'] : [200, value];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
