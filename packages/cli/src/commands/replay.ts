/**
 * `airlock ssm replay SESSION_ID [--speed N] [--log-group-name G]`: plays a recorded session in
 * this terminal as it went, from the session's stream in the log group (logs:GetLogEvents from
 * the head, page by page): each output written when its time comes, N times faster. The log
 * group is the one the account's preferences name (ssm:GetDocument SSM-SessionManagerRunShell)
 * unless --log-group-name says another. Pauses are cut to MAX_PAUSE_MS, as players do, so a
 * session left idle for an hour does not play for an hour.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { logs } from '@airlock/protocol';
import { FlagReader, parseArgs, UsageError } from '../args.js';
import { commandHelp, type Command, type Io, type OptionSpec } from '../command.js';
import { CONNECTION_OPTIONS, connection, PROFILE_OPTION, reportError } from './api.js';

export const MAX_PAUSE_MS = 2_000;
const PREFERENCES = 'SSM-SessionManagerRunShell';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'speed', value: '<number>', help: 'How many times faster than it happened: 2 is twice as fast, 0.5 half (default 1).' },
  { name: 'log-group-name', value: '<string>', help: "The log group holding the session's stream (default: the one the account's preferences name)." },
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

async function replay(sessionId: string, flags: FlagReader, io: Io): Promise<number> {
  const speed = parseSpeed(flags.one('speed'));
  const client = new AirlockClient(await connection(flags, true));
  let logGroupName = flags.one('log-group-name');
  try {
    logGroupName ??= await preferredLogGroup(client);
  } catch (error) {
    return reportError(error, 'GetDocument', io);
  }
  let previous: number | undefined;
  let token: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.call(logs.GetLogEvents, { logGroupName, logStreamName: sessionId, startFromHead: true, ...(token === undefined ? {} : { nextToken: token }) });
    } catch (error) {
      if (error instanceof AirlockApiError && error.code === 'ResourceNotFoundException') {
        io.stderr.write(`airlock: session ${sessionId} has no recording in log group ${logGroupName} (${error.message})\n`);
        return 1;
      }
      return reportError(error, 'GetLogEvents', io);
    }
    for (const { timestamp, output } of outputsOf(page.events)) {
      if (previous !== undefined) await sleep(pauseBefore(timestamp - previous, speed));
      previous = timestamp;
      io.stdout.write(output);
    }
    // The end: the same token comes back.
    if (page.nextForwardToken === token) return 0;
    token = page.nextForwardToken;
  }
}

export const ssmReplay: Command = {
  path: 'ssm replay',
  summary: "Play a recorded session in this terminal as it happened (its output, with its timing), from the session's stream in the log group.",
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
