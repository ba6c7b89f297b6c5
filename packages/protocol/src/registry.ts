/** Every API operation, in the order help and docs list them. */
import { IDENTITYSTORE_OPERATIONS } from './identitystore.js';
import type { AnyOperation } from './operation.js';

export const OPERATIONS: readonly AnyOperation[] = [...IDENTITYSTORE_OPERATIONS];
