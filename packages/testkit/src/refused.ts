/** An API call that must fail: the AirlockApiError it fails with, checked. */
import assert from 'node:assert/strict';
import { AirlockApiError } from '@airlock/client';

/** Asserts that `promise` fails with an AirlockApiError of `code` (and a message matching `message`); returns the error. */
export async function refused(promise: Promise<unknown>, code: string, message?: RegExp): Promise<AirlockApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AirlockApiError, String(error));
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  return assert.fail(`expected ${code}, but the call succeeded`);
}

/**
 * A `.catch` for ResumeSession while a session is moving off a dead node (the answer a client
 * retries): undefined for that refusal; anything else is thrown on.
 */
export function stillMoving(error: unknown): undefined {
  if (error instanceof AirlockApiError && error.code === 'InternalServerException' && / is moving from node /.test(error.message)) return undefined;
  throw error;
}
