/** Parameter values as the AWS CLI reads them: `file://path` loads a file, anything else is literal. */
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.js';

export async function readParameter(value: string): Promise<string> {
  if (!value.startsWith('file://')) return value;
  const path = value.slice('file://'.length);
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error && 'code' in cause && cause.code === 'ENOENT' ? 'no such file' : String(cause);
    throw new UsageError(`Cannot read ${path}: ${reason}.`);
  }
}
