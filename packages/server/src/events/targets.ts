/**
 * What a target's Arn means in Airlock. EventBridge's own targets are AWS resources (API
 * destinations, SNS topics, …) that Airlock does not have, so Airlock reads the Arn as one of:
 *
 * - a webhook URL, `https://…` (or `http://…`): each event is POSTed as its JSON, signed with
 *   HMAC-SHA256 under the target's signing secret (x-airlock-signature: sha256=HEX);
 * - `mailto:ADDRESS[,ADDRESS…]`: each event is mailed to each address through the server's mailer.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, events as api, forwarding } from '@airlock/protocol';

export type Destination = { readonly kind: 'webhook'; readonly url: URL } | { readonly kind: 'email'; readonly addresses: readonly string[] };

/** Headers Airlock sets itself: HeaderParameters may not replace them. */
const RESERVED_HEADERS = /^(content-type|content-length|host|connection|transfer-encoding|user-agent|x-airlock-.*)$/i;
const ADDRESS = /^[^\s@,;:<>()[\]"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Reads a target's Arn; `at` names the member in errors (Targets[0].Arn). */
export function readDestination(arn: string, at: string): Destination {
  if (/^mailto:/i.test(arn)) return { kind: 'email', addresses: readAddresses(arn.slice('mailto:'.length), at) };
  if (/^https?:\/\//i.test(arn)) return { kind: 'webhook', url: readUrl(arn, at) };
  if (arn.startsWith('arn:')) {
    throw new ApiError('ValidationException', `${at}: Airlock does not deliver to AWS resources (${arn.split(':').slice(0, 3).join(':')}:…). Give a webhook URL (https://…) or mailto:ADDRESS[,ADDRESS…].`);
  }
  throw new ApiError('ValidationException', `${at} must be a webhook URL (https://… or http://…) or mailto:ADDRESS[,ADDRESS…].`);
}

function readUrl(text: string, at: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiError('ValidationException', `${at} is not a valid URL.`);
  }
  if (url.username !== '' || url.password !== '') throw new ApiError('ValidationException', `${at}: a webhook URL may not carry a user name or password; use HttpParameters.HeaderParameters (Authorization) instead.`);
  if (url.hash !== '') throw new ApiError('ValidationException', `${at}: a webhook URL has no #fragment.`);
  if (forwarding.isForbiddenForwardHost(url.hostname)) {
    throw new ApiError('ValidationException', `${at}: ${url.hostname} is forbidden: link-local and instance metadata addresses are never called (they hand out the server's cloud credentials).`);
  }
  return url;
}

function readAddresses(text: string, at: string): string[] {
  if (text.includes('?')) throw new ApiError('ValidationException', `${at}: mailto: takes addresses only, without ?headers (Airlock writes the subject).`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw new ApiError('ValidationException', `${at}: the addresses are not correctly percent-encoded.`);
  }
  const addresses = decoded.split(',').map((address) => address.trim());
  if (addresses.length > api.MAX_EMAIL_ADDRESSES) throw new ApiError('ValidationException', `${at}: at most ${api.MAX_EMAIL_ADDRESSES} addresses a target.`);
  for (const address of addresses) {
    if (!ADDRESS.test(address)) throw new ApiError('ValidationException', `${at}: ${JSON.stringify(address)} is not an email address (mailto:ops@example.com,security@example.com).`);
  }
  if (new Set(addresses.map((address) => address.toLowerCase())).size !== addresses.length) throw new ApiError('ValidationException', `${at}: an address is listed twice.`);
  return addresses;
}

/** The endpoints one event goes to: one delivery each (a webhook's URL, or each address). */
export function endpointsOf(destination: Destination): readonly string[] {
  return destination.kind === 'webhook' ? [destination.url.href] : destination.addresses;
}

export interface HttpParameters {
  readonly HeaderParameters?: Readonly<Record<string, string>>;
  readonly QueryStringParameters?: Readonly<Record<string, string>>;
}

export function checkHttpParameters(parameters: HttpParameters, at: string): void {
  for (const [name, value] of Object.entries(parameters.HeaderParameters ?? {})) {
    if (RESERVED_HEADERS.test(name)) throw new ApiError('ValidationException', `${at}.HeaderParameters: ${name} is set by Airlock and cannot be replaced.`);
    if (!/^[\t\x20-\x7e]*$/.test(value)) throw new ApiError('ValidationException', `${at}.HeaderParameters: the value of ${name} must be printable ASCII on one line.`);
  }
}

/** A new signing secret: 32 random bytes, base64url (43 characters). */
export function newSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}
