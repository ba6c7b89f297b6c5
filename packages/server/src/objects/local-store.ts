/**
 * The default object store: a directory, `DATA/objects/{bucket}/{key}`. Each object is written
 * beside its place, fsynced and renamed over it, so a reader sees the old object or the new one,
 * never half of one. Its content type is kept in `DATA/objects/.meta/{bucket}/{key}` (written
 * first: the object's arrival is the commit). It encrypts nothing, so it has no encrypted bucket.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomically } from '../storage/files.js';
import { checkBucketName, checkObjectKey, ObjectKeyError, type ObjectInfo, type ObjectStore, type ObjectTarget, type PutObject } from './store.js';

const META = '.meta';
const OCTET_STREAM = 'application/octet-stream';

export class LocalDirectoryStore implements ObjectStore {
  readonly kind = 'local';
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  check(target: ObjectTarget): void {
    if (target.encryption !== undefined) {
      throw new ObjectKeyError(`The local object store does not encrypt; ${target.encryption.algorithm} needs --object-store s3.`);
    }
    this.pathOf(target.bucket, target.key);
  }

  async put(object: PutObject): Promise<void> {
    this.check(object);
    const path = this.pathOf(object.bucket, object.key);
    const meta = this.pathOf(object.bucket, object.key, META);
    await mkdir(dirname(meta), { recursive: true, mode: 0o700 });
    await writeFileAtomically(meta, JSON.stringify({ contentType: object.contentType }), 0o600);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Opened first: a missing file fails here, not as a stream's error event.
    const source = object.body instanceof Uint8Array ? object.body : (await open(object.body.file, 'r')).createReadStream();
    try {
      await writeFileAtomically(path, source, 0o600);
    } finally {
      if (!(source instanceof Uint8Array)) source.destroy();
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(bucket, key);
    const stats = await stat(path).catch(ifMissing(undefined));
    if (stats?.isFile() !== true) return undefined;
    const meta = await readFile(this.pathOf(bucket, key, META), 'utf8').catch(ifMissing('{}'));
    const contentType = (JSON.parse(meta) as { contentType?: unknown }).contentType;
    return { size: stats.size, contentType: typeof contentType === 'string' ? contentType : OCTET_STREAM, serverSideEncryption: undefined };
  }

  async get(bucket: string, key: string): Promise<{ info: ObjectInfo; body: Buffer } | undefined> {
    const info = await this.head(bucket, key);
    if (info === undefined) return undefined;
    const body = await readFile(this.pathOf(bucket, key)).catch(ifMissing(undefined));
    return body === undefined ? undefined : { info: { ...info, size: body.length }, body };
  }

  bucketEncrypted(bucket: string): Promise<boolean> {
    checkBucketName(bucket);
    return Promise.resolve(false);
  }

  close(): void {
    // Nothing held open.
  }

  /** The object's file (or its metadata's), refusing any key that would land outside the bucket. */
  private pathOf(bucket: string, key: string, tree?: string): string {
    checkBucketName(bucket);
    checkObjectKey(key);
    for (const segment of key.split('/')) {
      if (segment === '' || segment === '.' || segment === '..') {
        throw new ObjectKeyError(`The local object store cannot keep "${key}": empty, "." and ".." path segments are refused.`);
      }
      if (Buffer.byteLength(segment) > 255) throw new ObjectKeyError(`The local object store cannot keep "${key}": a path segment is over 255 bytes.`);
    }
    const base = tree === undefined ? join(this.root, bucket) : join(this.root, tree, bucket);
    const path = resolve(base, key);
    const inside = relative(base, path);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || resolve(base, inside) !== path) {
      throw new ObjectKeyError(`The object key "${key}" escapes the bucket's directory.`);
    }
    return path;
  }
}

function ifMissing<T>(value: T): (error: unknown) => T {
  return (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return value;
    throw error;
  };
}
