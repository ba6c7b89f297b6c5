/**
 * `services.objects`: what the recording calls at a session's end and start. The store is the
 * configured one (--object-store); uploads go through the outbox.
 */
import { join } from 'node:path';
import { ConfigError, type ServerConfig } from '../config/config.js';
import { LocalDirectoryStore } from './local-store.js';
import { ObjectOutbox, type OutboxDeps, type OutboxOptions } from './outbox.js';
import { S3Store } from './s3-store.js';
import { Spool } from './spool.js';
import type { ObjectStore, PutObject } from './store.js';

export class ObjectService {
  private constructor(
    readonly store: ObjectStore,
    readonly outbox: ObjectOutbox,
  ) {}

  static async open(config: Pick<ServerConfig, 'dataDir' | 'objectStore'>, deps: Pick<OutboxDeps, 'db' | 'clock' | 'log'>, options: Partial<OutboxOptions> = {}): Promise<ObjectService> {
    const store = await openStore(config);
    try {
      const spool = await Spool.open(config.dataDir);
      return new ObjectService(store, new ObjectOutbox({ ...deps, store, spool }, options));
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** Queues an upload (durably: it survives restarts) and returns the outbox row's id. Throws ObjectKeyError for a bucket, key or encryption the store cannot take. */
  enqueue(upload: PutObject): Promise<string> {
    return this.outbox.enqueue(upload);
  }

  /** Whether the bucket encrypts by default (S3's GetBucketEncryption); the local store encrypts nothing. */
  bucketEncrypted(bucket: string): Promise<boolean> {
    return this.store.bucketEncrypted(bucket);
  }

  start(): Promise<void> {
    return this.outbox.start();
  }

  async close(): Promise<void> {
    await this.outbox.close();
    this.store.close();
  }
}

/** The configured object store, alone (the audit command reads from it without an outbox). */
export async function openStore(config: Pick<ServerConfig, 'dataDir' | 'objectStore'>): Promise<ObjectStore> {
  if (config.objectStore.kind === 'local') return new LocalDirectoryStore(join(config.dataDir, 'objects'));
  const store = new S3Store(config.objectStore);
  try {
    await store.region();
  } catch {
    store.close();
    throw new ConfigError('--s3-region (AIRLOCK_S3_REGION) is not set, and the AWS SDK found no region either (AWS_REGION, the profile): give one.');
  }
  return store;
}
