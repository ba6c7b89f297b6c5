/** Files written so that a crash never leaves half of one, and a rename survives power loss. */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes beside the target, fsyncs, renames over it, then fsyncs the directory. `data` may be a stream. */
export async function writeFileAtomically(path: string, data: string | Uint8Array | AsyncIterable<Uint8Array>, mode: number): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
      else for await (const chunk of data) for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten;
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync of a file (or a directory) already written. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable. Best effort: some platforms cannot open or fsync a directory. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    await syncPath(dir);
  } catch {
    // The file is written; only its durability across a power loss is in question.
  }
}
