/**
 * `--output json | text | table`, as the AWS CLI offers them: JSON as the API answers; text as
 * tab-separated scalar values, one line per item of a list, for shell pipelines; table as
 * aligned columns for people.
 */
import { UsageError } from './args.js';

export const OUTPUT_FORMATS = ['json', 'text', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputFormat(value: string | undefined): OutputFormat {
  const format = value ?? 'json';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, not ${format}.`);
  return format as OutputFormat;
}

type Row = Record<string, string>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Flattens an item into column → text; nested objects get dotted names, lists are joined. */
function flatten(value: unknown, prefix = '', row: Row = {}): Row {
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix === '' ? key : `${prefix}.${key}`, row);
  } else if (Array.isArray(value)) {
    row[prefix] = value.map((item) => (isRecord(item) ? JSON.stringify(item) : String(item))).join(',');
  } else {
    row[prefix === '' ? 'Value' : prefix] = String(value);
  }
  return row;
}

/** Each list in the answer becomes rows under its name; the remaining scalars make one row. */
function sections(answer: unknown): { name: string; rows: Row[] }[] {
  if (!isRecord(answer)) return [{ name: '', rows: [flatten(answer)] }];
  const result: { name: string; rows: Row[] }[] = [];
  const scalars: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(answer)) {
    if (Array.isArray(value) && value.every(isRecord)) result.push({ name: key, rows: value.map((item) => flatten(item)) });
    else scalars[key] = value;
  }
  if (Object.keys(scalars).length > 0) result.unshift({ name: '', rows: [flatten(scalars)] });
  return result;
}

export function render(answer: unknown, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(answer, null, 2)}\n`;
  const out: string[] = [];
  for (const { name, rows } of sections(answer)) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    if (format === 'text') {
      for (const row of rows) out.push([...(name === '' ? [] : [name.toUpperCase()]), ...columns.map((column) => row[column] ?? '')].join('\t'));
      continue;
    }
    const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)));
    const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
    if (name !== '') out.push(name);
    out.push(line(columns), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map((row) => line(columns.map((column) => row[column] ?? ''))), '');
  }
  return `${out.join('\n')}\n`;
}
