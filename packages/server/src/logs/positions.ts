/**
 * An event's place, written as 56 decimal digits as AWS writes event ids and tokens: its time
 * (16 digits), its number in its stream (20) and its stream (20). The same digits are
 * FilterLogEvents' eventId, and, after `f/` or `b/`, GetLogEvents' tokens.
 */

export interface Position {
  /** Epoch milliseconds. */
  readonly time: number;
  readonly seq: number;
  readonly streamId: string;
}

const DIGITS = /^(\d{16})(\d{20})(\d{20})$/;

export function eventDigits(position: Position): string {
  return `${String(position.time).padStart(16, '0')}${String(position.seq).padStart(20, '0')}${position.streamId}`;
}

export function parseDigits(text: string): Position | undefined {
  const [, time, seq, streamId] = DIGITS.exec(text) ?? [];
  if (time === undefined || seq === undefined || streamId === undefined) return undefined;
  const position = { time: Number(time), seq: Number(seq), streamId };
  return Number.isSafeInteger(position.time) && Number.isSafeInteger(position.seq) ? position : undefined;
}
