/**
 * DATA/spool: the files the outbox holds until the object store has them. Each is named by its
 * outbox row's id. The spool has an id of its own (DATA/spool/.spool-id, made on first use) that
 * its rows carry: only a node whose data directory holds that spool (itself, after a restart, or
 * nodes sharing the directory) can upload them.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, syncPath, writeFileAtomically } from '../storage/files.js';

const ID_FILE = '.spool-id';

/** A file moved into the spool: kept once the row that names it is written, else put back. */
export interface Adopted {
  readonly size: number;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export class Spool {
  private constructor(
    readonly dir: string,
    readonly id: string,
  ) {}

  static async open(dataDir: string): Promise<Spool> {
    const dir = join(dataDir, 'spool');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const idFile = join(dir, ID_FILE);
    try {
      const handle = await open(idFile, 'wx', 0o600);
      try {
        await handle.writeFile(`${randomUUID()}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await syncDirectory(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const id = (await readFile(idFile, 'utf8')).trim();
    if (id === '') throw new Error(`${idFile} is empty: remove it, and the spool takes a new id (files already in it are then not uploaded).`);
    return new Spool(dir, id);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, bytes: Uint8Array): Promise<void> {
    return writeFileAtomically(this.path(name), bytes, 0o600);
  }

  /**
   * Moves `file` in as `name` (a copy, then the original's removal at commit, across file
   * systems), fsynced. Rolling back puts the spool as it was and leaves `file` where it was.
   */
  async adopt(file: string, name: string): Promise<Adopted> {
    const target = this.path(name);
    const { size } = await stat(file);
    try {
      await rename(file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await writeFileAtomically(target, createReadStream(file), 0o600);
      return { size, commit: () => unlink(file), rollback: () => this.remove(name) };
    }
    try {
      await syncPath(target);
      await syncDirectory(this.dir);
    } catch (error) {
      await rename(target, file);
      throw error;
    }
    return { size, commit: () => Promise.resolve(), rollback: () => rename(target, file) };
  }

  async remove(name: string): Promise<void> {
    await unlink(this.path(name)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  /** Removes files no row needs (`keep`), left by a crash between a move and its row; only those unchanged for a while (ctime: a rename sets it), so an enqueue under way keeps its file. */
  async sweep(keep: ReadonlySet<string>, olderThanMs: number): Promise<string[]> {
    const removed: string[] = [];
    const before = Date.now() - olderThanMs;
    for (const name of await readdir(this.dir)) {
      if (name === ID_FILE || keep.has(name)) continue;
      const stats = await stat(this.path(name)).catch(() => undefined);
      if (stats?.isFile() !== true || stats.ctimeMs > before) continue;
      await this.remove(name);
      removed.push(name);
    }
    return removed;
  }
}
