/**
 * The object store over the S3 protocol (`@aws-sdk/client-s3`): AWS, or any endpoint that speaks
 * it (MinIO, Ceph, Garage…), with path-style addressing when asked. Credentials come from the
 * configuration or, without them, from the SDK's default chain (environment, profile, instance role).
 *
 * Bodies go up in one PutObject with a Content-MD5 the store checks, computed here; the SDK's own
 * streaming checksums (aws-chunked) are off, as many S3-compatible servers store their framing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { S3ObjectStoreConfig } from '../config/config.js';
import { checkBucketName, checkObjectKey, ObjectKeyError, type Encryption, type ObjectBody, type ObjectInfo, type ObjectStore, type ObjectTarget, type PutObject } from './store.js';

/** What S3 answers GetBucketEncryption with for a bucket that has no default encryption. */
const NO_ENCRYPTION = 'ServerSideEncryptionConfigurationNotFoundError';
const MAX_SINGLE_PUT = 5 * 1024 ** 3;

export class S3Store implements ObjectStore {
  readonly kind = 's3';
  readonly client: S3Client;
  readonly #defaultEncryption: Encryption | undefined;

  constructor(config: S3ObjectStoreConfig) {
    this.client = new S3Client({
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      ...(config.region === undefined ? {} : { region: config.region }),
      ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
      forcePathStyle: config.forcePathStyle,
      followRegionRedirects: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.#defaultEncryption = config.encryption;
  }

  /** The region, from the configuration or the SDK's chain (AWS_REGION, the profile); throws when there is none. */
  region(): Promise<string> {
    return this.client.config.region();
  }

  check(target: ObjectTarget): void {
    checkBucketName(target.bucket);
    checkObjectKey(target.key);
    const kmsKeyId = target.encryption?.algorithm === 'aws:kms' ? target.encryption.kmsKeyId : undefined;
    if (kmsKeyId?.trim() === '') throw new ObjectKeyError('A KMS key id, when given, may not be empty.');
  }

  async put(object: PutObject): Promise<void> {
    this.check(object);
    const encryption = object.encryption ?? this.#defaultEncryption;
    const { length, md5 } = await measure(object.body);
    if (length > MAX_SINGLE_PUT) throw new ObjectKeyError(`${object.key} is ${length} bytes; one PutObject takes at most 5 GiB.`);
    // Opened first: a missing file fails here, not as a stream's error event.
    const body = object.body instanceof Uint8Array ? object.body : (await open(object.body.file, 'r')).createReadStream();
    try {
      await this.send(object, body, { length, md5 }, encryption);
    } finally {
      if (!(body instanceof Uint8Array)) body.destroy();
    }
  }

  private async send(object: PutObject, body: Uint8Array | ReadStream, { length, md5 }: { length: number; md5: string }, encryption: Encryption | undefined): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: body,
        ContentLength: length,
        ContentMD5: md5,
        ContentType: object.contentType,
        ...(encryption === undefined ? {} : { ServerSideEncryption: encryption.algorithm }),
        ...(encryption?.algorithm === 'aws:kms' && encryption.kmsKeyId !== undefined ? { SSEKMSKeyId: encryption.kmsKeyId } : {}),
      }),
    );
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return infoOf(answer);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async get(bucket: string, key: string): Promise<{ info: ObjectInfo; body: Buffer } | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
      return { info: { ...infoOf(answer), size: body.length }, body };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async bucketEncrypted(bucket: string): Promise<boolean> {
    checkBucketName(bucket);
    try {
      const answer = await this.client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      const rules = answer.ServerSideEncryptionConfiguration?.Rules ?? [];
      return rules.some((rule) => rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm !== undefined);
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === NO_ENCRYPTION) return false;
      throw error;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function infoOf(answer: { ContentLength?: number | undefined; ContentType?: string | undefined; ServerSideEncryption?: string | undefined }): ObjectInfo {
  return { size: answer.ContentLength ?? 0, contentType: answer.ContentType ?? 'application/octet-stream', serverSideEncryption: answer.ServerSideEncryption };
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);
}

/** The body's length and its MD5 (base64, for Content-MD5), reading a file once to hash it. */
async function measure(body: ObjectBody): Promise<{ length: number; md5: string }> {
  if (body instanceof Uint8Array) return { length: body.length, md5: createHash('md5').update(body).digest('base64') };
  const { size } = await stat(body.file);
  const hash = createHash('md5');
  for await (const chunk of createReadStream(body.file)) hash.update(chunk as Buffer);
  return { length: size, md5: hash.digest('base64') };
}
