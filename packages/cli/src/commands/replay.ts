/**
 * `airlock ssm replay SESSION_ID [--speed N] [--log-group-name G]`: plays a recorded session in
 * this terminal as it went, each output written when its time comes, N times faster. From the
 * session's record (ssm:GetSessionRecording, asciicast; one's own sessions need no policy), or,
 * with --log-group-name or when the node that answers does not hold the record, from the
 * session's stream in the log group (logs:GetLogEvents from the head, page by page; the group
 * the account's preferences name, ssm:GetDocument SSM-SessionManagerRunShell, by default). Pauses are cut to MAX_PAUSE_MS, as players do, so a
 * session left idle for an hour does not play for an hour.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { logs, sessions } from '@airlock/protocol';
import { FlagReader, parseArgs, UsageError } from '../args.js';
import { commandHelp, type Command, type Io, type OptionSpec } from '../command.js';
import { CONNECTION_OPTIONS, connection, PROFILE_OPTION, reportError } from './api.js';

export const MAX_PAUSE_MS = 2_000;
const PREFERENCES = 'SSM-SessionManagerRunShell';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'speed', value: '<number>', help: 'How many times faster than it happened: 2 is twice as fast, 0.5 half (default 1).' },
  { name: 'log-group-name', value: '<string>', help: "Play from the session's stream in this log group instead of its record (which only the node that ran it holds)." },
  ...CONNECTION_OPTIONS,
  PROFILE_OPTION,
];

export interface RecordedOutput {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly output: string;
}

/** The outputs of a page of the session's log events (inputs, exit status and connections are not replayed: the echo shows what was typed). */
export function outputsOf(events: readonly { readonly timestamp: number; readonly message: string }[]): RecordedOutput[] {
  const outputs: RecordedOutput[] = [];
  for (const event of events) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.message);
    } catch {
      continue;
    }
    const output = (parsed as { output?: unknown } | null)?.output;
    if (typeof output === 'string') outputs.push({ timestamp: event.timestamp, output });
  }
  return outputs;
}

/** How long to wait before an output that came `gapMs` after the one before. */
export function pauseBefore(gapMs: number, speed: number): number {
  return Math.min(Math.max(gapMs, 0), MAX_PAUSE_MS) / speed;
}

function parseSpeed(text: string | undefined): number {
  if (text === undefined) return 1;
  const speed = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(speed > 0) || speed > 1_000_000) throw new UsageError(`--speed must be a number above 0, like 2 (twice as fast) or 0.5 (half), not "${text}".`);
  return speed;
}

async function preferredLogGroup(client: AirlockClient): Promise<string> {
  const answer = (await client.callByName('ssm', 'GetDocument', { Name: PREFERENCES })) as { Content?: unknown };
  const content = typeof answer.Content === 'string' ? (JSON.parse(answer.Content) as { inputs?: { cloudWatchLogGroupName?: unknown } }) : undefined;
  const group = content?.inputs?.cloudWatchLogGroupName;
  if (typeof group !== 'string' || group === '') {
    throw new UsageError(`The account's preferences (${PREFERENCES}) name no log group (cloudWatchLogGroupName), so sessions are not recorded to one: give --log-group-name if this one was.`);
  }
  return group;
}

/** The output events of an asciicast v2 recording ([seconds, "o", text] after the header line), with times in milliseconds. */
export function castOutputs(cast: string): RecordedOutput[] {
  const outputs: RecordedOutput[] = [];
  for (const line of cast.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as unknown;
    if (Array.isArray(event) && typeof event[0] === 'number' && event[1] === 'o' && typeof event[2] === 'string') outputs.push({ timestamp: event[0] * 1000, output: event[2] });
  }
  return outputs;
}

/** A failure that ends the replay with a message and an exit status. */
class ReplayStop extends Error {
  constructor(readonly code: number) {
    super('replay stopped');
  }
}

/** The session's recording from its record (GetSessionRecording); undefined when the node that answered does not hold it. */
async function fromRecord(client: AirlockClient, sessionId: string, io: Io): Promise<RecordedOutput[] | undefined> {
  try {
    const { Content } = await client.call(sessions.GetSessionRecording, { SessionId: sessionId, Format: 'asciicast' });
    return castOutputs(Content);
  } catch (error) {
    if (error instanceof AirlockApiError && error.code === 'DoesNotExistException') return undefined;
    throw new ReplayStop(reportError(error, 'GetSessionRecording', io));
  }
}

/** The session's outputs from its stream in the log group, page by page. */
async function* fromLogGroup(client: AirlockClient, logGroupName: string, sessionId: string, io: Io): AsyncGenerator<RecordedOutput[]> {
  let token: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.call(logs.GetLogEvents, { logGroupName, logStreamName: sessionId, startFromHead: true, ...(token === undefined ? {} : { nextToken: token }) });
    } catch (error) {
      if (error instanceof AirlockApiError && error.code === 'ResourceNotFoundException') {
        io.stderr.write(`airlock: session ${sessionId} has no recording in log group ${logGroupName} (${error.message})\n`);
        throw new ReplayStop(1);
      }
      throw new ReplayStop(reportError(error, 'GetLogEvents', io));
    }
    yield outputsOf(page.events);
    // The end: the same token comes back.
    if (page.nextForwardToken === token) return;
    token = page.nextForwardToken;
  }
}

/** Where the outputs come from: the record (GetSessionRecording) unless --log-group-name says the log group, or the record is on another node. */
async function* outputPages(client: AirlockClient, sessionId: string, flags: FlagReader, io: Io): AsyncGenerator<RecordedOutput[]> {
  let logGroupName = flags.one('log-group-name');
  if (logGroupName === undefined) {
    const recorded = await fromRecord(client, sessionId, io);
    if (recorded !== undefined) {
      yield recorded;
      return;
    }
    try {
      logGroupName = await preferredLogGroup(client);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new ReplayStop(reportError(error, 'GetDocument', io));
    }
  }
  yield* fromLogGroup(client, logGroupName, sessionId, io);
}

async function replay(sessionId: string, flags: FlagReader, io: Io): Promise<number> {
  const speed = parseSpeed(flags.one('speed'));
  const client = new AirlockClient(await connection(flags, true));
  let previous: number | undefined;
  try {
    for await (const page of outputPages(client, sessionId, flags, io)) {
      for (const { timestamp, output } of page) {
        if (previous !== undefined) await sleep(pauseBefore(timestamp - previous, speed));
        previous = timestamp;
        io.stdout.write(output);
      }
    }
  } catch (error) {
    if (error instanceof ReplayStop) return error.code;
    throw error;
  }
  return 0;
}

export const ssmReplay: Command = {
  path: 'ssm replay',
  summary: "Play a recorded session in this terminal as it happened (its output, with its timing), from its record, or from its stream in the log group.",
  options: OPTIONS,
  examples: ['airlock ssm replay testuser01-0123456789abcdef0', 'airlock ssm replay testuser01-0123456789abcdef0 --speed 4 --log-group-name SessionManagerLogGroup'],
  // The session id is a word after the command, which the API commands' parser does not take.
  passThrough: true,
  async run(_flags, io, argv) {
    const { words, flags } = parseArgs(argv);
    if (flags.has('help')) {
      io.stdout.write(`Usage: airlock ssm replay SESSION_ID [--option value …]\n\n${commandHelp(ssmReplay)}`);
      return 0;
    }
    const reader = new FlagReader(flags, OPTIONS.map((option) => option.name), 'airlock ssm replay');
    const [sessionId, ...extra] = words;
    if (sessionId === undefined) throw new UsageError('Say which session: airlock ssm replay SESSION_ID [--speed N].');
    if (extra.length > 0) throw new UsageError(`airlock ssm replay takes one session id; "${extra.join(' ')}" is more.`);
    return replay(sessionId, reader, io);
  },
};
