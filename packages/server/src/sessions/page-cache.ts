/**
 * Letting go of a record's pages once they are on disk. A session record is written once,
 * synced, and read again only for a replay or after a crash; left in the page cache, every byte
 * a session prints takes memory the machine had free. On the virtual machines measured (a
 * Firecracker guest, whose untouched memory the host backs on first use) that cost the record's
 * writer 2-3 CPU s per GB of system time and held it under 300 MB/s; with the range advised away
 * after each sync (posix_fadvise DONTNEED, which keeps the kernel reusing the same warm pages),
 * 0.25 s and over 1 GB/s. PostgreSQL does the same with WAL nobody will read.
 *
 * Node has no binding for posix_fadvise, so a small addon of ours does it (native/page-cache.c,
 * built by node-gyp when the server's package is installed). Without it records are written and
 * synced all the same, and stay cached: the server says so when it starts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Advises the kernel to drop the file's cached pages in [offset, offset + length) (length 0: to the end); 0, or the error number. */
export type DropCached = (fd: number, offset: number, length: number) => number;

/** Where node-gyp puts the addon, from dist/sessions/. */
const ADDON = fileURLToPath(new URL('../../build/Release/page_cache.node', import.meta.url));

/** The addon's dropCached, or why it cannot be had. */
export function loadDropCached(path = ADDON): { readonly drop: DropCached } | { readonly problem: string } {
  try {
    const addon = createRequire(import.meta.url)(path) as { dropCached?: unknown };
    if (typeof addon.dropCached !== 'function') return { problem: `${path} has no dropCached` };
    return { drop: addon.dropCached as DropCached };
  } catch (error) {
    return { problem: error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error) };
  }
}
