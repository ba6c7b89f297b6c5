/**
 * The object store: where session recordings land at the end of a session (DESIGN §7-8). Two
 * kinds, one contract: a local directory (the default) and any S3-protocol endpoint.
 */

/** Server-side encryption asked of the store for one object (S3's x-amz-server-side-encryption). */
export type Encryption = { readonly algorithm: 'AES256' } | { readonly algorithm: 'aws:kms'; readonly kmsKeyId?: string };

/** The bytes, or a file to stream from. */
export type ObjectBody = Uint8Array | { readonly file: string };

/** Where an object goes, and how it is to be kept. */
export interface ObjectTarget {
  readonly bucket: string;
  readonly key: string;
  /** Absent: the store's default (--s3-server-side-encryption), else the bucket's own. */
  readonly encryption?: Encryption;
}

export interface PutObject extends ObjectTarget {
  readonly body: ObjectBody;
  readonly contentType: string;
}

export interface ObjectInfo {
  readonly size: number;
  readonly contentType: string;
  /** The encryption the store reports for the object, as S3 names it (AES256, aws:kms); undefined: none said. */
  readonly serverSideEncryption: string | undefined;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Throws ObjectKeyError when the bucket name, key or encryption is not one this store takes. */
  check(target: ObjectTarget): void;
  /** Writes the object whole, or not at all. */
  put(object: PutObject): Promise<void>;
  /** undefined: no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  get(bucket: string, key: string): Promise<{ readonly info: ObjectInfo; readonly body: Buffer } | undefined>;
  /** Whether the bucket encrypts what is put in it by default (S3's GetBucketEncryption). */
  bucketEncrypted(bucket: string): Promise<boolean>;
  close(): void;
}

/** A bucket name, key or encryption the store cannot take (the caller's mistake: retrying cannot help). */
export class ObjectKeyError extends Error {
  override readonly name = 'ObjectKeyError';
}

// S3's rules for new buckets: 3-63 lower-case letters, digits, dots and hyphens, a letter or
// digit at each end, no two dots together, not an IP address.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why a bucket cannot have this name, or undefined when it can. */
export function bucketNameProblem(bucket: string): string | undefined {
  if (BUCKET.test(bucket) && !bucket.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return undefined;
  return `${JSON.stringify(bucket)} is not a valid bucket name: 3-63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit.`;
}

export function checkBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) throw new ObjectKeyError(problem);
}

export function checkObjectKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > 1024) throw new ObjectKeyError(`An object key must be 1 to 1024 bytes long; "${key.slice(0, 64)}" is ${bytes}.`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new ObjectKeyError('An object key may not hold control characters.');
}

/** `{prefix}/{name}`, as the session preferences' s3KeyPrefix means it: no prefix, no slash; no doubled slash. */
export function objectKey(prefix: string, name: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? name : `${trimmed}/${name}`;
}
