/**
 * The record's group commit (record-worker.ts): a small batch (keystrokes, their echoes) waits
 * for company before its write and sync, since each sync costs the machine more than its own
 * time. A record's first entry goes at once (a session is revived after a crash only from a
 * record that holds something); after it, a request (another record opening, a sync, a close) or GROUP_BYTES of payload (a forwarded
 * connection's counted as the bytes it carried, though only their count is stored) cuts the
 * wait short, so neither a session's start or end nor a sender's window ever waits for it.
 * The wait is stretched to 30 s here, so "cut short" (seconds) and "still waiting" are told
 * apart by a wide margin, not by timing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { data } from '@airlock/protocol';
import { GENESIS, readRecord, RecordWriter, type Direction, type RecordEntry } from '@airlock/server/sessions/record';
import { GROUP_BYTES } from '@airlock/server/sessions/record-ring';
import { RecordThread } from '@airlock/server/sessions/record-thread';

const STRETCHED_MS = 30_000;
/** Far below STRETCHED_MS: what was cut short is durable well within it. */
const CUT_SHORT_MS = 10_000;

let dir: string;
before(async () => {
  RecordThread.groupCommitMs = STRETCHED_MS;
  dir = await mkdtemp(join(tmpdir(), 'airlock-record-group-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (direction: Direction, inSeq: number, payload: Uint8Array): RecordEntry => ({ direction, type: data.FrameType.Data, flags: 0, stream: 0, inSeq, outSeq: inSeq, time: Date.now(), payload });

/** `promise`, or a failure saying what was not cut short after CUT_SHORT_MS. */
async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} took over ${CUT_SHORT_MS} ms: the group-commit wait was not cut short`));
    }, CUT_SHORT_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `delayMs`: a slow disk, each batch taking that much more to write (the broker's test-only recordDelayMs). */
async function opened(name: string, delayMs = 0) {
  const durable: Record<Direction, number> = { input: 0, output: 0 };
  let moved: (() => void) | undefined;
  const writer = await RecordWriter.open(
    join(dir, `${name}.rec`),
    { head: GENESIS, entries: 0 },
    (now) => {
      Object.assign(durable, now);
      moved?.();
    },
    (error) => {
      throw error;
    },
    delayMs,
  );
  const reaches = (direction: Direction, seq: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${direction} durable at ${durable[direction]} after ${CUT_SHORT_MS} ms, not ${seq}: the group-commit wait was not cut short`));
      }, CUT_SHORT_MS);
      moved = () => {
        if (durable[direction] < seq) return;
        clearTimeout(timer);
        moved = undefined;
        resolve();
      };
      moved();
    });
  return { writer, durable, reaches };
}

/** A record whose first entry (a prompt) is on disk: a record's first entry goes at once. */
async function started(name: string) {
  const record = await opened(name);
  record.writer.append(entry('output', 1, Buffer.from('$ ')));
  await record.reaches('output', 1);
  // The worker idle again: an entry right behind a commit would go in the next batch at once.
  await sleep(300);
  return record;
}

test("a record's first entry goes at once; then a lone keystroke waits for company, and another record opening cuts the wait short", async () => {
  const first = await started('a');
  first.writer.append(entry('input', 1, Buffer.from('l')));
  await sleep(500);
  assert.equal(first.durable.input, 0, 'a lone small entry is not written at once: it waits for company');
  first.writer.append(entry('output', 2, Buffer.from('l')));

  // Opening is a request: answered at once, and what waited before it is on disk first.
  const second = await within('opening a second record', opened('b'));
  await first.reaches('input', 1);
  await first.reaches('output', 2);
  await Promise.all([first.writer.close(), second.writer.close()]);
});

test('a bulk of GROUP_BYTES goes at once, and a sync or close answers without the wait', async () => {
  const { writer, durable, reaches } = await started('c');
  writer.append(entry('input', 1, Buffer.from('x')));
  await sleep(500);
  assert.equal(durable.input, 0);
  writer.append(entry('output', 2, Buffer.alloc(GROUP_BYTES, 0x61)));
  await reaches('output', 2);
  assert.equal(durable.input, 1, 'the keystroke went with the bulk');

  await sleep(300);
  writer.append(entry('input', 2, Buffer.from('y')));
  await sleep(500);
  assert.equal(durable.input, 1);
  await within('settled()', writer.settled());
  assert.equal(durable.input, 2);
  await within('close()', writer.close());
  const read = await readRecord(join(dir, 'c.rec'));
  assert.equal(read.brokenAt, undefined);
  assert.deepEqual(
    read.entries.map((one) => [one.direction, one.inSeq, one.payload.length]),
    [
      ['output', 1, 2],
      ['input', 1, 1],
      ['output', 2, GROUP_BYTES],
      ['input', 2, 1],
    ],
  );
});

test("a forwarded connection's data counts as the bytes it carried: 64 KiB of it goes at once, though its entries are small", async () => {
  const { writer, durable, reaches } = await started('d');
  writer.append(entry('input', 1, Buffer.from('x')));
  await sleep(500);
  assert.equal(durable.input, 0);
  // As the broker records a port session's Data: the count, not the bytes (4 bytes on disk each).
  for (let seq = 2; seq <= 5; seq++) writer.append({ ...entry('output', seq, new Uint8Array(0)), stream: 3, elided: GROUP_BYTES / 4 });
  await reaches('output', 5);
  assert.equal(durable.input, 1);
  await within('close()', writer.close());
});

test('a keystroke that comes while a batch is being written waits for company too: small batches go once a wait at most, not back to back', async () => {
  const { writer, durable, reaches } = await opened('e', 1_000);
  // The first entry goes at once, and its batch takes a second to write.
  writer.append(entry('output', 1, Buffer.from('$ ')));
  await sleep(300);
  writer.append(entry('input', 1, Buffer.from('l')));
  await reaches('output', 1);
  // Taken at once behind the last batch, the keystroke would be on disk a second after it.
  await sleep(1_500);
  assert.equal(durable.input, 0, 'the keystroke waits as one met on waking does');
  await within('settled()', writer.settled());
  assert.equal(durable.input, 1, 'a sync still answers without the wait');
  await within('close()', writer.close());
});
