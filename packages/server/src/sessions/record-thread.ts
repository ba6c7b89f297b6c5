/**
 * The broker's side of the record's worker thread (record-worker.ts; the memory they share is
 * described in record-ring.ts). One worker serves every record of the process. Appending an
 * entry copies it into the shared ring and nudges the worker (Atomics.notify, no message and no
 * promise), so the thread that forwards frames does no hashing, no I/O and no waking up per batch.
 *
 * How far a record is on disk is read from the shared slots when the broker's thread comes by
 * anyway (the next entry appended), on a timer every POLL_MS while something appended is not
 * known to be on disk, and at once when the worker posts that a sender's unacknowledged bytes
 * reached WAKE_AT_BYTES (so flow control never waits for the timer).
 */
import { Worker } from 'node:worker_threads';
import { data } from '@airlock/protocol';
import { Control, CONTROL_WORDS, FIXED, FRAME, GROUP_BYTES, GROUP_COMMIT_MS, Kind, MAX_SLOTS, RING_BYTES, Slot, SLOT_WORDS, entryBytes, frameBytes, marksOf, payloadGap, storedPayloadBytes, type OpenRequest, type RecordEntry, type SharedMemory, type WorkerMessage } from './record-ring.js';

/** How often records with entries not known to be on disk look again, at most (as a lone Ack waits). */
export const POLL_MS = data.ACK_DELAY_MS;

/** A record as the thread knows it. */
export interface ThreadClient {
  /** Reads how far the record is on disk from its slot, and passes on what is new. */
  poll(): void;
  /** The record can be written no more. */
  fail(error: Error): void;
}

type Reply = Extract<WorkerMessage, { token: number }>;

/** A frame that found the ring full, waiting for room, in order. */
interface Waiting {
  readonly kind: number;
  readonly slot: number;
  readonly token: number;
  readonly entry?: RecordEntry;
  readonly body?: Buffer;
  /** Written without the group-commit wait. */
  readonly urgent?: boolean;
}

export class RecordThread {
  private static current: RecordThread | undefined;
  /** Tests only, set before the first record opens: how long a small batch waits for company. */
  static groupCommitMs = GROUP_COMMIT_MS;

  /** The process's record thread, started on first use (and again if it ever stopped). */
  static shared(): RecordThread {
    if (RecordThread.current === undefined || RecordThread.current.stopped !== undefined) RecordThread.current = new RecordThread();
    return RecordThread.current;
  }

  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly slots: Uint32Array;
  private readonly ring: Buffer;
  private head = 0;
  private readonly waiting: Waiting[] = [];
  private readonly clients = new Map<number, ThreadClient>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly replies = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextToken = 1;
  private readonly watched = new Set<ThreadClient>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pollArmed = false;
  private stopped: Error | undefined;
  /** The worker keeps the process alive: some request or some record's durability waits for it. */
  private reffed = false;

  private constructor() {
    const shared: SharedMemory = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      slots: new SharedArrayBuffer(MAX_SLOTS * SLOT_WORDS * 4),
      ring: new SharedArrayBuffer(RING_BYTES),
      groupCommitMs: RecordThread.groupCommitMs,
    };
    this.control = new Int32Array(shared.control);
    this.slots = new Uint32Array(shared.slots);
    this.ring = Buffer.from(shared.ring);
    this.worker = new Worker(new URL('./record-worker.js', import.meta.url), { workerData: shared, name: 'airlock-record' });
    this.worker.on('message', (message: WorkerMessage) => {
      this.received(message);
    });
    this.worker.on('error', (error) => {
      this.stop(new Error(`the record's worker thread failed: ${error.message}`, { cause: error }));
    });
    this.worker.on('exit', (code) => {
      this.stop(new Error(`the record's worker thread exited (code ${code})`));
    });
    // The thread keeps the process alive only while something waits for it (after the listeners:
    // adding a 'message' listener refs the worker again).
    this.worker.unref();
  }

  /** A slot for a record about to be opened, its words set to what the record holds so far. */
  allocate(client: ThreadClient, entries: number): number {
    if (this.stopped !== undefined) throw this.stopped;
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    if (slot >= MAX_SLOTS) {
      this.nextSlot = MAX_SLOTS;
      throw new Error(`${MAX_SLOTS} session records are open in this process, as many as may be`);
    }
    const base = slot * SLOT_WORDS;
    this.slots.fill(0, base, base + SLOT_WORDS);
    this.slots[base + Slot.Count] = entries >>> 0;
    this.clients.set(slot, client);
    return slot;
  }

  /** The slot's record is closed (or never opened): the slot may serve another. */
  release(slot: number): void {
    const client = this.clients.get(slot);
    if (client !== undefined) this.unwatch(client);
    this.clients.delete(slot);
    this.freeSlots.push(slot);
  }

  /** A word of the slot, as the worker last stored it. */
  read(slot: number, word: number): number {
    return Atomics.load(this.slots, slot * SLOT_WORDS + word);
  }

  /** Before reading a slot: a wake-up for what follows may be posted again. */
  clearWake(slot: number): void {
    Atomics.store(this.slots, slot * SLOT_WORDS + Slot.WakePosted, 0);
  }

  /** After reading a slot: the payload bytes the broker has now taken account of. */
  reported(slot: number, bytes: number): void {
    Atomics.store(this.slots, slot * SLOT_WORDS + Slot.ReportedBytes, bytes);
  }

  open(slot: number, request: OpenRequest): Promise<Reply> {
    return this.request(Kind.Open, slot, Buffer.from(JSON.stringify(request)));
  }

  /** Answered once everything appended to the slot before is on disk, with its chain head and count. */
  sync(slot: number): Promise<Reply> {
    return this.request(Kind.Sync, slot);
  }

  close(slot: number): Promise<Reply> {
    return this.request(Kind.Close, slot);
  }

  /** `urgent`: written without the group-commit wait (a record's first entry). */
  append(slot: number, entry: RecordEntry, urgent = false): void {
    if (this.stopped !== undefined) return;
    this.put({ kind: Kind.Entry, slot, token: 0, entry, urgent });
  }

  /** `client` has appended entries not known to be on disk: it is polled until they are. */
  watch(client: ThreadClient): void {
    this.watched.add(client);
    this.armPoll();
    this.holdProcess();
  }

  unwatch(client: ThreadClient): void {
    this.watched.delete(client);
    this.holdProcess();
  }

  private holdProcess(): void {
    const waited = this.stopped === undefined && (this.replies.size > 0 || this.watched.size > 0);
    if (waited === this.reffed) return;
    this.reffed = waited;
    if (waited) this.worker.ref();
    else this.worker.unref();
  }

  private armPoll(): void {
    if (this.pollArmed) return;
    this.pollArmed = true;
    if (this.pollTimer !== undefined) {
      this.pollTimer.refresh();
      return;
    }
    this.pollTimer = setTimeout(() => {
      this.pollArmed = false;
      this.pollAll();
      if (this.watched.size > 0) this.armPoll();
    }, POLL_MS);
    this.pollTimer.unref();
  }

  private pollAll(): void {
    for (const client of [...this.watched]) client.poll();
  }

  private request(kind: number, slot: number, body?: Buffer): Promise<Reply> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    const token = this.nextToken;
    this.nextToken = this.nextToken >= 0xffff_ffff ? 1 : this.nextToken + 1;
    return new Promise<Reply>((resolve, reject) => {
      this.replies.set(token, { resolve, reject });
      this.holdProcess();
      this.put({ kind, slot, token, ...(body === undefined ? {} : { body }) });
    });
  }

  private received(message: WorkerMessage): void {
    switch (message.kind) {
      case 'durable':
        this.pollAll();
        return;
      case 'room':
        this.makeWay();
        return;
      case 'failed': {
        const error: NodeJS.ErrnoException = new Error(message.message);
        if (message.code !== undefined) error.code = message.code;
        this.clients.get(message.slot)?.fail(error);
        return;
      }
      default: {
        const reply = this.replies.get(message.token);
        this.replies.delete(message.token);
        this.holdProcess();
        reply?.resolve(message);
      }
    }
  }

  private stop(error: Error): void {
    if (this.stopped !== undefined) return;
    this.stopped = error;
    clearTimeout(this.pollTimer);
    for (const reply of this.replies.values()) reply.reject(error);
    this.replies.clear();
    for (const client of this.clients.values()) client.fail(error);
    this.watched.clear();
    this.waiting.length = 0;
  }

  /** Puts a frame in the ring, or in line for room (behind any already in line, so each record's entries keep their order). */
  private put(frame: Waiting): void {
    if (this.waiting.length === 0 && this.write(frame)) return;
    this.waiting.push(frame);
    if (this.waiting.length === 1) this.makeWay();
  }

  /** Writes what waits for room, as far as it goes; asks the worker to say when there is more room. */
  private makeWay(): void {
    for (let attempt = 0; attempt < 2 && this.waiting.length > 0; attempt++) {
      let written = 0;
      while (written < this.waiting.length && this.write(this.waiting[written] as Waiting)) written++;
      this.waiting.splice(0, written);
      if (this.waiting.length === 0) return;
      // Raised before the tail is looked at again, as the worker stores the tail before it
      // looks at this: one of the two sees the other, so the call for room is not lost.
      Atomics.store(this.control, Control.WantRoom, 1);
    }
  }

  /** Writes a frame at the head if there is room; false if there is not. */
  private write(frame: Waiting): boolean {
    const { entry } = frame;
    const length = entry !== undefined ? entryBytes(storedPayloadBytes(entry)) : (frame.body?.length ?? 0);
    const gap = entry !== undefined && entry.elided === undefined ? payloadGap(entry.payload) : 0;
    const size = frameBytes(length, gap);
    const at = this.reserve(size);
    if (at === undefined) return false;
    const { ring } = this;
    ring.writeUInt16LE(frame.kind, at);
    ring.writeUInt16LE(gap, at + 2);
    ring.writeUInt32LE(frame.slot, at + 4);
    ring.writeUInt32LE(length, at + 8);
    ring.writeUInt32LE(frame.token, at + 12);
    const body = at + FRAME + gap;
    if (entry !== undefined) {
      // The entry as on disk, its hash left for the worker (record.ts describes the format).
      ring.writeUInt32BE(length - 4, body);
      ring[body + 4] = entry.direction === 'input' ? 0 : 1;
      ring[body + 5] = entry.type;
      ring[body + 6] = entry.flags;
      ring[body + 7] = marksOf(entry);
      ring.writeUInt32BE(entry.stream, body + 8);
      ring.writeUInt32BE(entry.inSeq, body + 12);
      ring.writeUInt32BE(entry.outSeq, body + 16);
      ring.writeDoubleBE(entry.time, body + 20);
      if (entry.elided === undefined) ring.set(entry.payload, body + 4 + FIXED);
      else ring.writeUInt32BE(entry.elided, body + 4 + FIXED);
    } else if (frame.body !== undefined) {
      frame.body.copy(ring, body);
    }
    this.head = (at + size) % RING_BYTES;
    Atomics.store(this.control, Control.Head, this.head);
    Atomics.notify(this.control, Control.Head, 1);
    // No group-commit wait for a request (someone waits for it), an urgent entry, or so many bytes
    // (bulk: a sender's window filling).
    const bytes = entry === undefined ? 0 : (entry.elided ?? entry.payload.length);
    if (entry === undefined || frame.urgent === true || Atomics.add(this.control, Control.Appended, bytes) + bytes >= GROUP_BYTES) {
      if (Atomics.compareExchange(this.control, Control.Urgent, 0, 1) === 0) Atomics.notify(this.control, Control.Urgent, 1);
    }
    return true;
  }

  /**
   * Where a frame of `size` bytes goes, or undefined when the ring has no room for it. The head
   * never catches up with the tail (equal means empty). A frame that would pass the end goes at
   * the start, after a Wrap frame (there are always 8 bytes left for it: frames are 8-aligned).
   */
  private reserve(size: number): number | undefined {
    const tail = Atomics.load(this.control, Control.Tail);
    const { head } = this;
    if (head < tail) return head + size < tail ? head : undefined;
    if (head + size < RING_BYTES || (head + size === RING_BYTES && tail !== 0)) return head;
    if (size >= tail) return undefined;
    this.ring.writeUInt32LE(Kind.Wrap, head);
    return 0;
  }
}
