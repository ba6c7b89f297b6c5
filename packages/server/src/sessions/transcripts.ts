/**
 * What a session's record becomes for people: log events (one per frame, its time and the input
 * or output as JSON text, so control bytes are escaped), a readable transcript (`.log`: the
 * output with terminal escape sequences taken out) and an asciicast v2 recording (`.cast`, for
 * `asciinema play` and web players). Forwarded connections become one event each: destination,
 * bytes each way, duration. Input withheld from the record (typed at a password prompt) shows as
 * INPUT_HIDDEN: an event of its own, a note in the transcript, a marker in the asciicast.
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

/** One event per Data frame of the terminal, and one per forwarded connection once it closes. */
export function logEvents(facts: SessionFacts, entries: readonly RecordEntry[]): LogEvent[] {
  const events: LogEvent[] = [];
  const connections = new Map<number, { opened: number; input: number; output: number }>();
  for (const entry of entries) {
    if (entry.stream === 0) {
      if (entry.type !== data.FrameType.Data && entry.type !== data.FrameType.Exit) continue;
      const body =
        entry.type === data.FrameType.Exit
          ? { exitStatus: data.readExit(entry.payload).status }
          : entry.withheld === true
            ? { input: INPUT_HIDDEN, withheld: true }
            : { [entry.direction]: text(entry.payload) };
      events.push({ timestamp: Math.floor(entry.time), message: JSON.stringify({ sessionId: facts.sessionId, target: facts.target, owner: facts.owner, ...body }) });
      continue;
    }
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
