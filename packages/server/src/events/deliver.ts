/**
 * One attempt to hand one event to one endpoint: a signed POST to a webhook, or a mail through
 * the server's mailer. An attempt succeeds, fails for now (retried with backoff), or fails for
 * good (the endpoint refused it in a way a retry will not change).
 */
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { events as api, forwarding } from '@airlock/protocol';
import type { Mailer } from '../mail/mailer.js';
import { MailDeliveryError } from '../mail/smtp.js';
import { escapeHtml } from '../mail/templates.js';
import type { HttpParameters } from './targets.js';

export type Outcome = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly error: string };

/**
 * Statuses worth retrying, as EventBridge's API destinations retry them: 401, 407, 409, 429 and
 * every 5xx. Any other status is the endpoint's final answer.
 */
const RETRIED_STATUSES = new Set([401, 407, 409, 429]);
/** How much of a refusing endpoint's answer is kept as the delivery's last error. */
const ERROR_BODY_CHARS = 200;

export interface WebhookRequest {
  readonly endpoint: string;
  readonly body: string;
  readonly secret: string;
  readonly parameters: HttpParameters;
  readonly deliveryId: string;
  readonly eventId: string;
  readonly attempt: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** The signature header's value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Whether the webhook's host is, or names, a link-local or metadata address. PutTargets refused
 * such a host as written; a name may still point there, so it is looked up before each POST (fetch
 * looks it up again: a name that changes between the two is not caught, a name that stays is).
 */
async function forbiddenHost(hostname: string): Promise<boolean> {
  if (forwarding.isForbiddenForwardHost(hostname)) return true;
  try {
    const addresses = await lookup(hostname.replace(/^\[(.*)\]$/, '$1'), { all: true });
    return addresses.some(({ address }) => forwarding.isForbiddenAddress(address));
  } catch {
    // Not resolved: fetch fails on its own and says why.
    return false;
  }
}

export async function postWebhook(request: WebhookRequest): Promise<Outcome> {
  const url = new URL(request.endpoint);
  if (await forbiddenHost(url.hostname)) return { ok: false, retry: false, error: `${url.origin}: ${url.hostname} is, or resolves to, a link-local or instance metadata address; Airlock never calls those.` };
  for (const [key, value] of Object.entries(request.parameters.QueryStringParameters ?? {})) url.searchParams.append(key, value);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body: request.body,
      // Not followed: the signature was made for this URL, and a redirect could lead anywhere.
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]),
      headers: {
        ...request.parameters.HeaderParameters,
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Airlock-Events/1',
        [api.SIGNATURE_HEADER]: signature(request.secret, request.body),
        'x-airlock-event-id': request.eventId,
        'x-airlock-delivery-id': request.deliveryId,
        'x-airlock-attempt': String(request.attempt),
      },
    });
  } catch (error) {
    if (request.signal.aborted) throw error;
    return { ok: false, retry: true, error: `${url.origin}: ${describeFetchError(error, request.timeoutMs)}` };
  }
  const text = await readSome(response);
  if (response.status >= 200 && response.status < 300) return { ok: true };
  const retry = response.status >= 500 || RETRIED_STATUSES.has(response.status);
  const answer = text === '' ? '' : `: ${text}`;
  return { ok: false, retry, error: `${url.origin} answered HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}${answer}` };
}

/** The start of an answer's body, on one line; the rest is not read. */
async function readSome(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    const first = await reader.read();
    const bytes = first.done ? new Uint8Array() : first.value;
    return new TextDecoder().decode(bytes.subarray(0, ERROR_BODY_CHARS * 4)).replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
  } catch {
    return '';
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer within ${Math.round(timeoutMs / 1000)} seconds`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return `${cause.code}${typeof cause.message === 'string' ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/** Mails the event to one address. An SMTP 5xx answer (no such mailbox…) is final; anything else is retried. */
export async function mailEvent(mailer: Mailer, to: string, body: string): Promise<Outcome> {
  try {
    await mailer.send({ to, ...eventMail(body) });
    return { ok: true };
  } catch (error) {
    const final = error instanceof MailDeliveryError && error.responseCode !== undefined && error.responseCode >= 500;
    return { ok: false, retry: !final, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The mail for one event: a summary line and the whole event as indented JSON. */
export function eventMail(body: string): { subject: string; text: string; html: string } {
  const event = JSON.parse(body) as { 'detail-type'?: unknown; source?: unknown; time?: unknown; account?: unknown };
  const detailType = typeof event['detail-type'] === 'string' ? event['detail-type'] : 'Event';
  const summary = `${detailType} from ${String(event.source)} in account ${String(event.account)} at ${String(event.time)}.`;
  const json = JSON.stringify(event, null, 2);
  return {
    subject: `Airlock: ${detailType}`.replace(/[\r\n]+/g, ' '),
    text: `${summary}\n\n${json}\n\nAn Airlock event rule sent this mail; its targets are listed by airlock events list-targets-by-rule.\n`,
    html: `<p>${escapeHtml(summary)}</p>\n<pre style="font-family: monospace">${escapeHtml(json)}</pre>\n<p style="color:#666">An Airlock event rule sent this mail.</p>\n`,
  };
}
