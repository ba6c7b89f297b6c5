/** NextToken for the fleet's lists: the identity paging token, refused with AWS's InvalidNextToken. */
import { ApiError } from '@airlock/protocol';
import { decodeNextToken, encodeNextToken } from '../identity/paging.js';

export const encodeToken = encodeNextToken;

export function decodeToken(token: string | undefined): string | undefined {
  try {
    return decodeNextToken(token);
  } catch {
    throw new ApiError('InvalidNextToken', 'NextToken is not a token this operation returned.');
  }
}
