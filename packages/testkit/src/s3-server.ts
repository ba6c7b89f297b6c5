/**
 * A real S3-protocol server for tests: s3rver on a random loopback port, path-style, storing in
 * a temporary directory. It knows one access key, S3RVER (secret S3RVER), and refuses others;
 * it does not verify SigV4 signatures themselves. It can be stopped and started again on the
 * same port with the same contents, to play an outage.
 *
 * s3rver does not implement a bucket's default encryption (it answers NotImplemented to
 * ?encryption). So that GetBucketEncryption can be tested over the wire, the testkit serves that
 * one subresource itself, in S3's XML, in front of s3rver: PutBucketEncryption,
 * GetBucketEncryption (ServerSideEncryptionConfigurationNotFoundError when none is set) and
 * DeleteBucketEncryption, checking the access key as s3rver does. Objects are not encrypted: s3rver takes the x-amz-server-side-encryption
 * headers and ignores them; `requests` shows what a client sent.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { temporaryDirectory } from './files.js';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A request the server received, with the headers that say how to store the object. */
export interface S3Request {
  readonly method: string;
  /** The decoded path: /bucket/key. */
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface TestS3Server {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  readonly port: number;
  readonly requests: readonly S3Request[];
  /** Airlock server flags for this server (startTestServer's `flags`). */
  readonly flags: Readonly<Record<string, string>>;
  /** A path-style client with the server's credentials. */
  client(): S3Client;
  /** Makes a bucket; with `encryption`, a default encryption too (PutBucketEncryption). */
  createBucket(name: string, options?: { readonly encryption?: 'AES256' | 'aws:kms' }): Promise<void>;
  /** PUT requests for the object: each upload of it. */
  uploadsOf(bucket: string, key: string): readonly S3Request[];
  /** Stops answering (connections refused); the contents are kept. */
  stop(): Promise<void>;
  /** Answers again, on the same port. */
  start(): Promise<void>;
  /** Stops and removes the contents. */
  close(): Promise<void>;
}

const RECORDED_HEADERS = /^(content-type|content-md5|content-length|x-amz-server-side-encryption.*)$/;
const BUCKET_PATH = /^\/([^/?]+)\/?$/;

export async function startS3Server(): Promise<TestS3Server> {
  const directory = await temporaryDirectory('airlock-s3-');
  const s3rver = new S3rver({ silent: true, directory: join(directory.path, 'data'), resetOnClose: false, vhostBuckets: false });
  const encryption = new BucketEncryption(join(directory.path, 'bucket-encryption.json'), (bucket) => s3rver.store.getBucket(bucket).then(Boolean));
  const handle = s3rver.callback();
  const requests: S3Request[] = [];
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const headers = Object.fromEntries(Object.entries(request.headers).flatMap(([name, value]) => (RECORDED_HEADERS.test(name) && typeof value === 'string' ? [[name, value]] : [])));
    requests.push({ method: request.method ?? '', path: decodeURIComponent(url.pathname), query: url.search, headers });
    const bucket = BUCKET_PATH.exec(url.pathname)?.[1];
    if (bucket !== undefined && url.searchParams.has('encryption')) encryption.serve(bucket, request, response);
    else handle(request, response);
  };
  let server: Server | undefined;
  const listen = async (port: number): Promise<number> => {
    const listening = createServer(onRequest);
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    server = listening;
    return (listening.address() as AddressInfo).port;
  };
  const port = await listen(0);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = (): S3Client => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const stop = async (): Promise<void> => {
    const running = server;
    server = undefined;
    if (running === undefined) return;
    running.closeAllConnections();
    await new Promise<void>((resolve) => running.close(() => resolve()));
  };
  return {
    endpoint,
    port,
    requests,
    flags: {
      'object-store': 's3',
      's3-endpoint': endpoint,
      's3-region': 'us-east-1',
      's3-force-path-style': 'true',
      's3-access-key-id': S3RVER_CREDENTIALS.accessKeyId,
      's3-secret-access-key': S3RVER_CREDENTIALS.secretAccessKey,
    },
    client,
    createBucket: async (name, options = {}) => {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
        if (options.encryption !== undefined) {
          const rule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: options.encryption } };
          await s3.send(new PutBucketEncryptionCommand({ Bucket: name, ServerSideEncryptionConfiguration: { Rules: [rule] } }));
        }
      } finally {
        s3.destroy();
      }
    },
    uploadsOf: (bucket, key) =>
      requests.filter((request) => request.method === 'PUT' && request.path === `/${bucket}/${key}` && [...new URLSearchParams(request.query).keys()].every((name) => name === 'x-id')),
    stop,
    start: async () => {
      if (server === undefined) await listen(port);
    },
    close: async () => {
      await stop();
      await directory.remove();
    },
  };
}

/** A bucket's default encryption, which s3rver lacks: kept in a JSON file beside its data, in S3's wire format. */
class BucketEncryption {
  constructor(
    private readonly file: string,
    private readonly exists: (bucket: string) => Promise<boolean>,
  ) {}

  serve(bucket: string, request: IncomingMessage, response: ServerResponse): void {
    this.answer(bucket, request).then(
      ({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() }).end(body);
      },
      (error: unknown) => {
        response.writeHead(500).end(xmlError('InternalError', String(error), bucket));
      },
    );
  }

  private async answer(bucket: string, request: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (!(request.headers.authorization ?? '').includes(`Credential=${S3RVER_CREDENTIALS.accessKeyId}/`)) {
      return { status: 403, body: xmlError('AccessDenied', 'Access Denied', bucket) };
    }
    if (!(await this.exists(bucket))) return { status: 404, body: xmlError('NoSuchBucket', 'The specified bucket does not exist', bucket) };
    const all = await this.read();
    if (request.method === 'PUT') {
      const algorithm = /<SSEAlgorithm>([^<]+)<\/SSEAlgorithm>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      if (algorithm !== 'AES256' && algorithm !== 'aws:kms') return { status: 400, body: xmlError('MalformedXML', 'The XML you provided was not well-formed', bucket) };
      await this.write({ ...all, [bucket]: algorithm });
      return { status: 200, body: '' };
    }
    if (request.method === 'DELETE') {
      await this.write(Object.fromEntries(Object.entries(all).filter(([name]) => name !== bucket)));
      return { status: 204, body: '' };
    }
    const algorithm = all[bucket];
    if (algorithm === undefined) {
      return { status: 404, body: xmlError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', bucket) };
    }
    return {
      status: 200,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${algorithm}</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
    };
  }

  private async read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  private write(all: Record<string, string>): Promise<void> {
    return writeFile(this.file, JSON.stringify(all));
  }
}

function xmlError(code: string, message: string, bucket: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><BucketName>${bucket}</BucketName><RequestId>${randomUUID()}</RequestId></Error>`;
}
