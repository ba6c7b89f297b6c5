/**
 * What a session's record becomes for people: log events (a line typed or printed each, its
 * time and the input or output as JSON text, so control bytes are escaped), a readable
 * transcript (`.log`: the output with terminal escape sequences taken out) and an asciicast v2
 * recording (`.cast`, for `asciinema play` and web players). Forwarded connections become one
 * event each: destination, bytes each way, duration. Input withheld from the record (typed at a
 * password prompt) shows as INPUT_HIDDEN: an event of its own (one for a password typed key by
 * key), a note in the transcript, a marker in the asciicast.
 */
import { data } from '@airlock/protocol';
import type { LogEvent } from '../logs/store.js';
import type { RecordEntry } from './record.js';

export interface SessionFacts {
  readonly sessionId: string;
  readonly target: string;
  readonly owner: string;
  readonly startedAt: number;
  /** Where a port session's connections go. */
  readonly destination: string | undefined;
}


/** What stands for input typed with the terminal's echo off, whose bytes the record does not hold. */
export const INPUT_HIDDEN = '[input hidden: echo off]';

/** CSI, OSC and two-byte escape sequences, which draw rather than say. */
// eslint-disable-next-line no-control-regex -- the terminal's control sequences are what this removes
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

function text(payload: Uint8Array): string {
  return data.fromUtf8(payload);
}

/** Terminal frames further apart than this are separate events: a pause ends a line being typed or printed. */
export const EVENT_GAP_MS = 1_000;
/** Past this many bytes an event ends even mid-line (the log store takes 256 KiB an event). */
const EVENT_MAX_BYTES = 16 * 1024;

const CR = 0x0d;
const LF = 0x0a;

interface Group {
  readonly entries: RecordEntry[];
  bytes: number;
  /** It holds a line end: the next frame of its direction begins another group. */
  lined: boolean;
  closed: boolean;
}

/**
 * The terminal's Data and Exit entries gathered into what become log events: the keystrokes of a
 * command typed key by key are one input event ("whoami\r") and their echoes one output event,
 * though the two alternate frame by frame, so FilterLogEvents finds a command by its words.
 * Each direction gathers on its own. A group ends: at a frame whose last byte is \r or \n;
 * before the next frame, once it holds a line end anywhere (a prompt stays with the output
 * before it); between withheld and recorded input (a password typed key by key is one marker);
 * after a gap of more than EVENT_GAP_MS before its direction's next frame; at EVENT_MAX_BYTES;
 * at an Exit (an event of its own). Events come in the order their groups began: `ready` are the
 * groups before the first one still open, `waiting` the entries of the rest (in their order),
 * which the next entries decide; `all` is every group, as the session's end has them. Decided by
 * the entries alone, so a record gives the same events however it is cut: a streamed session
 * sends what is ready as it comes, and the whole record gives the same list.
 */
export function terminalGroups(entries: readonly RecordEntry[]): { readonly all: RecordEntry[][]; readonly ready: RecordEntry[][]; readonly waiting: RecordEntry[] } {
  const groups: Group[] = [];
  const current = new Map<RecordEntry['direction'], Group>();
  const close = (direction: RecordEntry['direction']): void => {
    const group = current.get(direction);
    if (group !== undefined) group.closed = true;
    current.delete(direction);
  };
  for (const entry of entries) {
    if (entry.stream !== 0) continue;
    if (entry.type === data.FrameType.Exit) {
      close('input');
      close('output');
      groups.push({ entries: [entry], bytes: 0, lined: false, closed: true });
      continue;
    }
    if (entry.type !== data.FrameType.Data) continue;
    const withheld = entry.withheld === true;
    const open = current.get(entry.direction);
    const last = open?.entries.at(-1);
    // Withheld keys carry no bytes and end no line: a password is one group however slowly it is typed.
    if (open !== undefined && last !== undefined && (open.lined || (last.withheld === true) !== withheld || (!withheld && entry.time - last.time > EVENT_GAP_MS))) close(entry.direction);
    let group = current.get(entry.direction);
    if (group === undefined) {
      group = { entries: [], bytes: 0, lined: false, closed: false };
      groups.push(group);
      current.set(entry.direction, group);
    }
    group.entries.push(entry);
    group.bytes += entry.payload.length;
    group.lined ||= entry.payload.includes(CR) || entry.payload.includes(LF);
    const end = entry.payload.at(-1);
    if (end === CR || end === LF || group.bytes >= EVENT_MAX_BYTES) close(entry.direction);
  }
  const firstOpen = groups.findIndex((group) => !group.closed);
  const ready = firstOpen < 0 ? groups : groups.slice(0, firstOpen);
  const held = new Set((firstOpen < 0 ? [] : groups.slice(firstOpen)).flatMap((group) => group.entries));
  return { all: groups.map((group) => group.entries), ready: ready.map((group) => group.entries), waiting: entries.filter((entry) => held.has(entry)) };
}

function terminalEvent(facts: SessionFacts, group: readonly RecordEntry[]): LogEvent {
  const [first] = group;
  if (first === undefined) throw new Error('a terminal event needs at least one frame');
  const body =
    first.type === data.FrameType.Exit
      ? { exitStatus: data.readExit(first.payload).status }
      : first.withheld === true
        ? { input: INPUT_HIDDEN, withheld: true }
        : // Joined before decoding: a character split between frames comes out whole.
          { [first.direction]: text(Buffer.concat(group.map((entry) => entry.payload))) };
  return { timestamp: Math.floor(first.time), message: JSON.stringify({ sessionId: facts.sessionId, target: facts.target, owner: facts.owner, ...body }) };
}

/** The terminal's events of these entries; `final` (the session ended): all of them, else those ready, the rest left `open`. */
export function terminalEvents(facts: SessionFacts, entries: readonly RecordEntry[], final: boolean): { readonly events: LogEvent[]; readonly open: RecordEntry[] } {
  const { all, ready, waiting } = terminalGroups(entries);
  // At the end every group is whole, open or not.
  if (final) return { events: all.map((group) => terminalEvent(facts, group)), open: [] };
  return { events: ready.map((group) => terminalEvent(facts, group)), open: waiting };
}

/** An ended session's events: its terminal's (terminalGroups), then one per forwarded connection, as each closed. */
export function logEvents(facts: SessionFacts, entries: readonly RecordEntry[]): LogEvent[] {
  return [...terminalEvents(facts, entries, true).events, ...connectionEvents(facts, entries)];
}

/** One event per forwarded connection once it closes: destination, bytes each way, duration. */
function connectionEvents(facts: SessionFacts, entries: readonly RecordEntry[]): LogEvent[] {
  const events: LogEvent[] = [];
  const connections = new Map<number, { opened: number; input: number; output: number }>();
  for (const entry of entries) {
    if (entry.stream === 0) continue;
    let connection = connections.get(entry.stream);
    if (entry.type === data.FrameType.Open && connection === undefined) connections.set(entry.stream, (connection = { opened: entry.time, input: 0, output: 0 }));
    if (connection === undefined) continue;
    if (entry.type === data.FrameType.Data) connection[entry.direction === 'input' ? 'input' : 'output'] += entry.elided ?? entry.payload.length;
    if (entry.type === data.FrameType.Close) {
      connections.delete(entry.stream);
      events.push({
        timestamp: Math.floor(entry.time),
        message: JSON.stringify({
          sessionId: facts.sessionId,
          target: facts.target,
          owner: facts.owner,
          connection: entry.stream,
          destination: facts.destination,
          bytesToDestination: connection.input,
          bytesFromDestination: connection.output,
          durationMs: Math.round(entry.time - connection.opened),
          ...((entry.flags & data.FrameFlag.Reset) === 0 ? {} : { reset: text(entry.payload) }),
        }),
      });
    }
  }
  return events;
}

/** The output as a person reads it: escape sequences out, line ends as newlines; INPUT_HIDDEN where a password was typed. */
export function transcript(entries: readonly RecordEntry[]): string {
  const output = hiddenOrOutput(entries)
    .map((entry) => (entry.withheld === true ? INPUT_HIDDEN : text(entry.payload)))
    .join('');
  return output.replace(ESCAPES, '').replace(/\r\n/g, '\n').replace(/\r/g, '\n');
}

/**
 * The terminal's output entries, and the first of each run of withheld input (a password typed
 * key by key is one run: nothing is shown between its keys).
 */
function hiddenOrOutput(entries: readonly RecordEntry[]): RecordEntry[] {
  const kept: RecordEntry[] = [];
  for (const entry of entries) {
    if (entry.stream !== 0 || entry.type !== data.FrameType.Data) continue;
    if (entry.direction === 'output' || (entry.withheld === true && kept.at(-1)?.withheld !== true)) kept.push(entry);
  }
  return kept;
}

/**
 * asciicast v2: a header line (the first terminal size), then [seconds, "o", text] output,
 * [seconds, "r", "COLSxROWS"] resizes and [seconds, "m", INPUT_HIDDEN] markers where a password
 * was typed (players show markers on the timeline; the screen stays as the person saw it).
 */
export function asciicast(facts: SessionFacts, entries: readonly RecordEntry[]): string {
  const terminal = entries.filter((entry) => entry.stream === 0);
  const firstResize = terminal.find((entry) => entry.type === data.FrameType.Resize);
  const initial = firstResize === undefined ? { cols: 80, rows: 24 } : data.readResize(firstResize.payload);
  const marked = new Set(hiddenOrOutput(terminal).filter((entry) => entry.withheld === true));
  const lines = [JSON.stringify({ version: 2, width: initial.cols, height: initial.rows, timestamp: Math.floor(facts.startedAt / 1000), env: { TERM: 'xterm-256color' }, title: `${facts.sessionId} on ${facts.target}` })];
  for (const entry of terminal) {
    const at = Math.max(0, (entry.time - facts.startedAt) / 1000);
    if (entry.type === data.FrameType.Resize && entry !== firstResize) {
      const { cols, rows } = data.readResize(entry.payload);
      lines.push(JSON.stringify([at, 'r', `${cols}x${rows}`]));
    } else if (entry.type === data.FrameType.Data && entry.direction === 'output') {
      lines.push(JSON.stringify([at, 'o', text(entry.payload)]));
    } else if (marked.has(entry)) {
      lines.push(JSON.stringify([at, 'm', INPUT_HIDDEN]));
    }
  }
  return `${lines.join('\n')}\n`;
}
