/**
 * Reading an asciicast v2 recording (https://docs.asciinema.org/manual/asciicast/v2/): a header
 * line (width, height, …), then one event a line, `[seconds, code, text]`, where `o` is output,
 * `i` input, `r` a resize (`COLSxROWS`) and `m` a marker. The player needs the output and the
 * resizes; long pauses are cut to IDLE_LIMIT so a replay does not sit still for minutes.
 */
export interface CastEvent {
  /** Seconds from the start of the replay (pauses cut). */
  readonly at: number;
  readonly kind: 'output' | 'resize';
  readonly text: string;
  readonly cols?: number;
  readonly rows?: number;
}

export interface Cast {
  readonly cols: number;
  readonly rows: number;
  readonly events: readonly CastEvent[];
  readonly duration: number;
}

export const IDLE_LIMIT = 2;

export function parseCast(content: string): Cast {
  const [headerLine = '', ...lines] = content.split('\n');
  const header = JSON.parse(headerLine) as { version?: unknown; width?: unknown; height?: unknown };
  if (header.version !== 2) throw new Error('This recording is not asciicast version 2.');
  const cols = typeof header.width === 'number' && header.width > 0 ? header.width : 80;
  const rows = typeof header.height === 'number' && header.height > 0 ? header.height : 24;
  const events: CastEvent[] = [];
  let previous = 0;
  let at = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as unknown;
    if (!Array.isArray(event) || typeof event[0] !== 'number' || typeof event[1] !== 'string' || typeof event[2] !== 'string') continue;
    const [time, code, text] = event as [number, string, string];
    at += Math.min(Math.max(time - previous, 0), IDLE_LIMIT);
    previous = time;
    if (code === 'o') events.push({ at, kind: 'output', text });
    else if (code === 'r') {
      const size = /^(\d+)x(\d+)$/.exec(text);
      if (size !== null) events.push({ at, kind: 'resize', text, cols: Number(size[1]), rows: Number(size[2]) });
    }
  }
  return { cols, rows, events, duration: at };
}
