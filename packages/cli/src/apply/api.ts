/**
 * The calls `airlock apply` makes, through @airlock/client. Failures carry the operation's name
 * (for the AWS CLI's "when calling the X operation" message), and a read-only Api refuses to
 * send any write: planning and --dry-run use one.
 */
import { AirlockApiError, type AirlockClient } from '@airlock/client';
import type { AnyOperation, InputOf, OutputOf } from '@airlock/protocol';

/** The server refused a call, or could not be reached. */
export class CallError extends Error {
  override readonly name = 'CallError';

  constructor(
    readonly operation: string,
    readonly error: AirlockApiError,
  ) {
    super(`${operation}: ${error.message}`, { cause: error });
  }
}

export class Api {
  /** The write calls made, in order: `identitystore:CreateGroup`. */
  readonly writes: string[] = [];

  constructor(
    private readonly client: AirlockClient,
    private readonly readOnly: boolean,
  ) {}

  /** The same connection, refusing writes. */
  reader(): Api {
    return new Api(this.client, true);
  }

  async call<Op extends AnyOperation>(operation: Op, input: InputOf<Op>): Promise<OutputOf<Op>> {
    if (!operation.readOnly) {
      if (this.readOnly) throw new Error(`apply: ${operation.service}:${operation.name} is a write, and this connection only reads`);
      this.writes.push(`${operation.service}:${operation.name}`);
    }
    try {
      return await this.client.call(operation, input);
    } catch (error) {
      if (error instanceof AirlockApiError) throw new CallError(operation.name, error);
      throw error;
    }
  }

  /** Every item of a paged list. */
  async all<Op extends AnyOperation, T>(operation: Op, input: InputOf<Op>, items: (output: OutputOf<Op>) => readonly T[]): Promise<T[]> {
    const result: T[] = [];
    let nextToken: string | undefined;
    do {
      const output = await this.call(operation, { ...input, ...(nextToken === undefined ? {} : { NextToken: nextToken }) });
      result.push(...items(output));
      const next = (output as { NextToken?: unknown }).NextToken;
      nextToken = typeof next === 'string' && next !== '' ? next : undefined;
    } while (nextToken !== undefined);
    return result;
  }
}
