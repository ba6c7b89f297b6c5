/**
 * Secrets at rest (TOTP seeds) are sealed with AES-256-GCM under a key kept in the data
 * directory (DATA/secret.key, 0600, made at first start) or given in AIRLOCK_SECRET_KEY. A
 * database copied without the key reveals no seed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../storage/files.js';

const VERSION = 'v1';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The key from `base64Key` when given, else DATA/secret.key, made on first use. */
  static async open(dataDir: string, base64Key: string | undefined): Promise<SecretBox> {
    if (base64Key !== undefined) return new SecretBox(decodeKey(base64Key, 'AIRLOCK_SECRET_KEY'));
    const path = join(dataDir, 'secret.key');
    try {
      return new SecretBox(decodeKey((await readFile(path, 'utf8')).trim(), path));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      const key = randomBytes(32);
      await writeFileAtomically(path, `${key.toString('base64')}\n`, 0o600);
      return new SecretBox(key);
    }
  }

  seal(plain: Uint8Array): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return [VERSION, iv.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  open(sealed: string): Uint8Array {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
  }
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${source} must hold 32 bytes in base64 (44 characters).`);
  return key;
}
