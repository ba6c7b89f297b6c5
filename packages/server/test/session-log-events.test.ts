/**
 * A terminal session's log events: a line typed key by key is one input event and its echo one
 * output event, so a search finds a command by its words; a pause, a change of direction or a
 * password ends an event; the events are the same however the record is cut (streaming).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { data } from '@airlock/protocol';
import type { RecordEntry } from '@airlock/server/sessions/record';
import { EVENT_GAP_MS, logEvents, terminalEvents, type SessionFacts } from '@airlock/server/sessions/transcripts';

const facts: SessionFacts = { sessionId: 'alice-0123456789abcdef0', target: 'mi-0123456789abcdef0', owner: 'arn:aws:sts::111122223333:assumed-role/R/alice', startedAt: 0, destination: undefined };
let seq = 0;
function entry(direction: 'input' | 'output', bytes: string | Uint8Array, time: number, extra: Partial<RecordEntry> = {}): RecordEntry {
  seq += 1;
  const payload = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return { direction, type: data.FrameType.Data, flags: 0, stream: 0, inSeq: seq, outSeq: seq, time, payload, ...extra };
}
const keys = (text: string, from: number, step = 150): RecordEntry[] => Array.from(text).map((key, index) => entry('input', key, from + index * step));
const echo = (text: string, from: number, step = 150): RecordEntry[] => Array.from(text).map((key, index) => entry('output', key, from + index * step + 1));
const bodies = (entries: readonly RecordEntry[]): unknown[] => logEvents(facts, entries).map((event) => {
  const message = JSON.parse(event.message) as Record<string, unknown>;
  return message['input'] !== undefined ? ['input', message['input']] : message['output'] !== undefined ? ['output', message['output']] : message;
});

test('keystrokes and their echoes, alternating frame by frame as a terminal has them: one input event and one output event a line', () => {
  const typed = keys('whoami\r', 1000);
  // The terminal echoes Enter as a line end.
  const echoed = [...echo('whoami', 1000), entry('output', '\r\n', 1000 + 6 * 150 + 1)];
  const interleaved = typed.flatMap((key, index) => [key, echoed[index] as RecordEntry]);
  assert.deepEqual(bodies([entry('output', '$ ', 0), ...interleaved, entry('output', 'alice\r\n', 2100), entry('output', '$ ', 2101)]), [
    // The prompt came more than EVENT_GAP_MS before the first echo.
    ['output', '$ '],
    ['input', 'whoami\r'],
    ['output', 'whoami\r\n'],
    ['output', 'alice\r\n'],
    ['output', '$ '],
  ]);
});

test('a pause of more than EVENT_GAP_MS ends an event; a character split between frames comes out whole', () => {
  const euro = new TextEncoder().encode('€');
  const events = bodies([entry('output', 'progress: ', 0), entry('output', euro.subarray(0, 1), 10), entry('output', euro.subarray(1), 20), entry('output', '50%', EVENT_GAP_MS + 30), entry('output', ' done\n', EVENT_GAP_MS + 40)]);
  assert.deepEqual(events, [
    ['output', 'progress: €'],
    ['output', '50% done\n'],
  ]);
});

test('a password typed key by key is one marker; the exit status an event of its own', () => {
  const withheld = Array.from({ length: 9 }, (_, index) => entry('input', '', 100 + index * 2000, { withheld: true }));
  const exit = { ...entry('output', data.exitPayload(3, ''), 30_000), type: data.FrameType.Exit };
  const events = logEvents(facts, [entry('output', 'Password: ', 0), ...withheld, entry('output', '\r\n', 20_000), exit]).map((event) => JSON.parse(event.message) as Record<string, unknown>);
  assert.deepEqual(
    events.map((message) => message['output'] ?? message['input'] ?? message['exitStatus']),
    ['Password: ', '[input hidden: echo off]', '\r\n', 3],
  );
  assert.equal(events[1]?.['withheld'], true);
});

test('the events are the same however the entries are cut: what is sent as it closes, then the rest at the end', () => {
  const typed = keys('ls -l\r', 0);
  const echoed = [...echo('ls -l', 0), entry('output', '\r\n', 5 * 150 + 1)];
  const entries = [entry('output', '$ ', 0), ...typed.flatMap((key, index) => [key, echoed[index] as RecordEntry]), entry('output', 'total 0\r\n', 950), entry('output', '$ ', 960), ...keys('exit\r', 5000)];
  const whole = logEvents(facts, entries);
  for (let cut = 0; cut <= entries.length; cut++) {
    const first = terminalEvents(facts, entries.slice(0, cut), false);
    const rest = terminalEvents(facts, [...first.open, ...entries.slice(cut)], true);
    assert.deepEqual([...first.events, ...rest.events], whole, `cut after ${cut} entries`);
  }
  // The prompt (no line end) waits for what follows it before it is an event.
  assert.deepEqual(terminalEvents(facts, entries.slice(0, 15), false).open.map((open) => data.fromUtf8(open.payload)), ['$ ']);
  // While a line is typed, nothing is ready: the prompt and the echoes so far are one output line still open.
  assert.deepEqual(terminalEvents(facts, entries.slice(0, 4), false).open.map((open) => `${open.direction} ${data.fromUtf8(open.payload)}`), ['output $ ', 'input l', 'output l', 'input s']);
  assert.deepEqual(bodies(entries).slice(0, 2), [
    ['output', '$ ls -l\r\n'],
    ['input', 'ls -l\r'],
  ]);
});
