/**
 * The record's writer and its worker thread (record.ts, record-thread.ts, record-worker.ts),
 * without a server: what is appended reaches the file, chained as readRecord checks it, and is
 * said durable (by direction, up to the last inSeq) without anything else appended; records
 * interleave; more than the shared ring holds waits for room and keeps its order; a continued
 * record chains on; a write that fails fails that record clearly, not the others; a path that
 * cannot be opened is refused; once on disk, a record's pages leave the page cache.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { data } from '@airlock/protocol';
import { GENESIS, readRecord, RecordWriter, type Direction, type RecordEntry } from '@airlock/server/sessions/record';
import { RING_BYTES } from '@airlock/server/sessions/record-ring';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-record-writer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (direction: Direction, inSeq: number, payload: Uint8Array): RecordEntry => ({ direction, type: data.FrameType.Data, flags: 0, stream: 0, inSeq, outSeq: inSeq + 100, time: 1_700_000_000_000 + inSeq, payload });

/** A writer whose onDurable calls are kept, and a promise for a direction reaching a seq. */
async function opened(path: string, continued: { head: Buffer; entries: number } = { head: GENESIS, entries: 0 }) {
  const durable: Record<Direction, number> = { input: 0, output: 0 };
  const errors: Error[] = [];
  let waiter: (() => void) | undefined;
  const writer = await RecordWriter.open(
    path,
    continued,
    (moved) => {
      for (const [direction, seq] of Object.entries(moved) as [Direction, number][]) {
        assert.ok(seq > durable[direction], `durable ${direction} went from ${durable[direction]} to ${seq}`);
        durable[direction] = seq;
      }
      waiter?.();
    },
    (error) => errors.push(error),
  );
  const reaches = (direction: Direction, seq: number, ms = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${direction} durable at ${durable[direction]} after ${ms} ms, not ${seq}`));
      }, ms);
      const check = (): void => {
        if (durable[direction] < seq) return;
        clearTimeout(timer);
        waiter = undefined;
        resolve();
      };
      waiter = check;
      check();
    });
  return { writer, durable, errors, reaches };
}

test('entries appended reach the file chained and are said durable by direction, with nothing more appended', async () => {
  const path = join(dir, 'one', 'a.rec');
  const { writer, durable, errors, reaches } = await opened(path);
  const appended = [entry('input', 1, Buffer.from('l')), entry('output', 1, Buffer.from('l')), entry('input', 2, Buffer.from('s')), entry('output', 2, Buffer.from('s\r\n'))];
  for (const one of appended) writer.append(one);
  // Small entries: nobody wakes the broker's thread, its poll finds them on disk.
  await reaches('output', 2);
  assert.equal(durable.input, 2);
  await writer.settled();
  const read = await readRecord(path);
  assert.equal(read.brokenAt, undefined);
  assert.equal(read.tornBytes, 0);
  assert.deepEqual(
    read.entries.map((one) => ({ ...one, payload: Buffer.from(one.payload).toString() })),
    appended.map((one) => ({ ...one, payload: Buffer.from(one.payload).toString() })),
  );
  assert.equal(writer.chainHead.toString('hex'), read.head.toString('hex'));
  assert.equal(writer.entryCount, 4);
  await writer.close();
  assert.deepEqual(errors, []);

  // Continued after a "restart": the chain goes on from the head read back.
  const again = await opened(path, { head: read.head, entries: read.entries.length });
  again.writer.append(entry('input', 3, Buffer.from('x')));
  await again.writer.settled();
  await again.writer.close();
  const reread = await readRecord(path);
  assert.equal(reread.brokenAt, undefined);
  assert.equal(reread.entries.length, 5);
  assert.equal(again.writer.chainHead.toString('hex'), reread.head.toString('hex'));
  assert.equal(again.writer.entryCount, 5);
});

test('payloads cut from a message at any offset, as frames arrive, reach the file whole and chained', async () => {
  const path = join(dir, 'offsets', 'a.rec');
  const { writer, errors, reaches } = await opened(path);
  // The ring places each payload by its offset modulo 8 (record-ring.ts, payloadGap): every
  // residue, with payloads long and short, odd and even, and a wrap of the ring on the way.
  const message = Buffer.alloc(200_000);
  for (let i = 0; i < message.length; i++) message[i] = (i * 31 + 7) % 253;
  const appended: RecordEntry[] = [];
  for (let seq = 1; seq <= 400; seq++) {
    const offset = (seq * 5) % 8 + (seq % 3) * 1000;
    const length = seq % 4 === 0 ? 1 : 40_000 + seq;
    appended.push(entry('output', seq, message.subarray(offset, offset + length)));
  }
  for (const one of appended) writer.append(one);
  await reaches('output', 400, 30_000);
  await writer.settled();
  await writer.close();
  const read = await readRecord(path);
  assert.equal(read.brokenAt, undefined);
  assert.equal(read.entries.length, appended.length);
  read.entries.forEach((one, i) => assert.ok(Buffer.from(one.payload).equals(appended[i]?.payload as Uint8Array), `entry ${i + 1}'s payload`));
  assert.deepEqual(errors, []);
});

test("a forwarded connection's data is recorded as its byte count, chained, and none of its bytes reach the file", async () => {
  const path = join(dir, 'forward', 'a.rec');
  const { writer, errors, reaches } = await opened(path);
  const secret = Buffer.from('the bytes of a forwarded connection');
  const forwarded: RecordEntry = { ...entry('output', 1, new Uint8Array(0)), stream: 1, elided: secret.length };
  const open: RecordEntry = { ...entry('input', 1, new Uint8Array(0)), type: data.FrameType.Open, stream: 1 };
  writer.append(open);
  writer.append(forwarded);
  writer.append({ ...forwarded, inSeq: 2, outSeq: 102, elided: 100_000 });
  await reaches('output', 2);
  await writer.settled();
  await writer.close();
  const read = await readRecord(path);
  assert.equal(read.brokenAt, undefined);
  assert.deepEqual(
    read.entries.map((one) => [one.type, one.stream, one.payload.length, one.elided]),
    [
      [data.FrameType.Open, 1, 0, undefined],
      [data.FrameType.Data, 1, 0, secret.length],
      [data.FrameType.Data, 1, 0, 100_000],
    ],
  );
  assert.equal((await readFile(path)).includes(secret), false);
  assert.deepEqual(errors, []);
});

test('interleaved records, more than the shared ring holds in one turn: each whole, in order, and durable without another append', async () => {
  const records = await Promise.all(['b', 'c', 'd'].map((name) => opened(join(dir, 'many', `${name}.rec`))));
  const chunk = (seq: number, record: number): Uint8Array => Buffer.alloc(data.MAX_PAYLOAD, (seq * 7 + record) % 251);
  // 3 × 120 × 64 KiB = 22.5 MiB in one turn of the event loop: the ring (16 MiB) fills and the rest waits for room.
  const perRecord = 120;
  assert.ok(records.length * perRecord * data.MAX_PAYLOAD > RING_BYTES);
  for (let seq = 1; seq <= perRecord; seq++) {
    records.forEach((record, index) => {
      record.writer.append(entry('output', seq, chunk(seq, index)));
    });
  }
  // Big entries: the worker wakes the broker's thread; no settled() or append needed.
  await Promise.all(records.map((record) => record.reaches('output', perRecord, 60_000)));
  for (const [index, record] of records.entries()) {
    await record.writer.close();
    assert.deepEqual(record.errors, []);
    const read = await readRecord(join(dir, 'many', `${['b', 'c', 'd'][index] ?? ''}.rec`));
    assert.equal(read.brokenAt, undefined);
    assert.equal(read.entries.length, perRecord);
    read.entries.forEach((one, at) => {
      assert.equal(one.inSeq, at + 1);
      assert.ok(Buffer.from(one.payload).equals(Buffer.from(chunk(at + 1, index))), `entry ${at + 1} of record ${index} holds its own bytes`);
    });
  }
});

test('a write that fails fails its record, saying why, and not the others', async () => {
  // /dev/full takes the open and refuses every write (ENOSPC).
  const full = await opened('/dev/full');
  const fine = await opened(join(dir, 'fine.rec'));
  full.writer.append(entry('output', 1, Buffer.from('lost')));
  fine.writer.append(entry('output', 1, Buffer.from('kept')));
  await assert.rejects(full.writer.settled(), (error: NodeJS.ErrnoException) => error.code === 'ENOSPC');
  assert.equal(full.errors.length, 1);
  assert.equal((full.errors[0] as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.equal(full.durable.output, 0, 'nothing said durable');
  // Appending to a failed record is ignored; closing it works.
  full.writer.append(entry('output', 2, Buffer.from('more')));
  await full.writer.close();
  await fine.writer.settled();
  assert.equal(fine.durable.output, 1);
  await fine.writer.close();
  assert.deepEqual(fine.errors, []);
  assert.equal((await readRecord(join(dir, 'fine.rec'))).entries.length, 1);
});

test('a record whose file cannot be opened is refused', async () => {
  const file = join(dir, 'a-file');
  await writeFile(file, 'not a directory');
  await assert.rejects(opened(join(file, 'records', 'x.rec')), (error: NodeJS.ErrnoException) => error.code === 'ENOTDIR' || error.code === 'EEXIST');
});

/** Bytes of the file in the page cache, as util-linux's fincore(1) reads them (mincore). */
function cachedBytes(path: string): number {
  const report = JSON.parse(execFileSync('fincore', ['--json', '--bytes', path], { encoding: 'utf8' })) as { fincore: { res: number | string }[] };
  return Number(report.fincore[0]?.res);
}

test("a record's pages leave the page cache once on disk, but for its last, partly written one", async () => {
  const path = join(dir, 'cache', 'c.rec');
  const { writer, errors, reaches } = await opened(path);
  // 2 MiB of output in 64 entries, in several batches: each sync lets go of what it covered.
  for (let seq = 1; seq <= 64; seq++) {
    writer.append(entry('output', seq, Buffer.alloc(32 * 1024, seq)));
    if (seq % 16 === 0) await reaches('output', seq);
  }
  await writer.settled();
  const { size } = await stat(path);
  assert.ok(size > 2 * 1024 * 1024, `the record holds ${size} bytes`);
  const cached = cachedBytes(path);
  assert.ok(cached <= 4096, `${cached} of the record's ${size} bytes are still in the page cache`);
  // What left the cache is intact on disk.
  const read = await readRecord(path);
  assert.equal(read.brokenAt, undefined);
  assert.equal(read.entries.length, 64);
  assert.equal(read.entries[63]?.payload[0], 64);
  assert.deepEqual(errors, []);
  await writer.close();
});
