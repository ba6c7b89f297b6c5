/**
 * The EC2 instance metadata service, for cloud join: IMDSv2 only (a session token from
 * `PUT /latest/api/token`, then GETs that carry it), with short timeouts, since off EC2 nothing
 * answers at 169.254.169.254 at all. Reads the instance identity document, AWS's PKCS7
 * signature over it (/rsa2048: RSA, SHA-256), and the instance's tags when "tags in instance
 * metadata" is on.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { fleet } from '@airlock/protocol';

export const DEFAULT_METADATA_URL = 'http://169.254.169.254';

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export interface InstanceIdentity {
  /** The document exactly as served (what AWS signed). */
  readonly document: string;
  /** base64 of the PKCS7 SignedData (whitespace removed). */
  readonly signature: string;
  readonly instanceId: string;
  readonly accountId: string;
  readonly region: string;
  /** The instance's tags; undefined when the metadata service does not show them. */
  readonly tags: readonly Tag[] | undefined;
  /** Tags left out, and why (Airlock's tag rules are stricter than EC2's). */
  readonly skippedTags: readonly string[];
}

export interface MetadataOptions {
  /** Default http://169.254.169.254. */
  readonly metadataUrl?: string;
  /** Per request; default 2 s. */
  readonly timeoutMs?: number;
}

const TOKEN_TTL_SECONDS = 60;
const MAX_BODY = 64 * 1024;

interface Answer {
  readonly status: number;
  readonly body: string;
}

function fetchText(url: URL, method: 'GET' | 'PUT', headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers: { ...headers, 'user-agent': 'airlock-agent' }, timeout: timeoutMs }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) response.destroy(new Error(`an answer larger than ${MAX_BODY} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    request.end();
  });
}

/** The metadata service's base URL, checked: http only (it has no TLS), no path. */
export function normalizeMetadataUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MetadataError(`The metadata URL ${JSON.stringify(text)} is not a URL: give one like ${DEFAULT_METADATA_URL}.`);
  }
  if (url.protocol !== 'http:') throw new MetadataError(`The metadata URL ${text} must be http:// (the instance metadata service has no TLS).`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new MetadataError(`The metadata URL ${text} must be just scheme, host and port, like ${DEFAULT_METADATA_URL}.`);
  }
  return url;
}

/** Keeps the tags Airlock takes (AWS's characters, lengths, no aws: keys, at most 50). */
export function usableTags(tags: readonly Tag[]): { tags: Tag[]; skipped: string[] } {
  const kept: Tag[] = [];
  const skipped: string[] = [];
  for (const tag of tags) {
    const why =
      tag.Key.toLowerCase().startsWith('aws:')
        ? 'aws: keys are reserved'
        : tag.Key.length < 1 || tag.Key.length > 128 || !fleet.TAG_TEXT.test(tag.Key)
          ? 'the key has characters or a length Airlock does not take'
          : tag.Value.length > 256 || !fleet.TAG_TEXT.test(tag.Value)
            ? 'the value has characters or a length Airlock does not take'
            : kept.length >= fleet.MAX_TAGS
              ? `more than ${fleet.MAX_TAGS} tags`
              : undefined;
    if (why === undefined) kept.push(tag);
    else skipped.push(`${tag.Key} (${why})`);
  }
  return { tags: kept, skipped };
}

/**
 * Reads the identity document, its /rsa2048 signature and the tags through IMDSv2. Failures
 * are MetadataErrors that say what to check.
 */
export async function readInstanceIdentity(options: MetadataOptions = {}): Promise<InstanceIdentity> {
  const base = normalizeMetadataUrl(options.metadataUrl ?? DEFAULT_METADATA_URL);
  const origin = base.origin;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const at = (path: string): URL => new URL(path, base);

  let tokenAnswer: Answer;
  try {
    tokenAnswer = await fetchText(at('/latest/api/token'), 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) }, timeoutMs);
  } catch (error) {
    throw new MetadataError(
      `No instance metadata service at ${origin} (${error instanceof Error ? error.message : String(error)}). --cloud works on an EC2 instance whose metadata service is on ` +
        '(HttpEndpoint enabled); in a container, the hop limit must be 2 or more (HttpPutResponseHopLimit).',
    );
  }
  if (tokenAnswer.status !== 200 || tokenAnswer.body.trim() === '') {
    throw new MetadataError(`The metadata service at ${origin} gave no IMDSv2 token (HTTP ${tokenAnswer.status} to PUT /latest/api/token).`);
  }
  const token = tokenAnswer.body.trim();

  const get = async (path: string, optional = false): Promise<string | undefined> => {
    let answer: Answer;
    try {
      answer = await fetchText(at(path), 'GET', { 'x-aws-ec2-metadata-token': token }, timeoutMs);
    } catch (error) {
      throw new MetadataError(`The metadata service at ${origin} did not answer GET ${path}: ${error instanceof Error ? error.message : String(error)}.`);
    }
    if (answer.status === 200) return answer.body;
    if (optional && answer.status === 404) return undefined;
    if (answer.status === 401) throw new MetadataError(`The metadata service at ${origin} refused its own token for GET ${path} (HTTP 401).`);
    throw new MetadataError(`The metadata service at ${origin} answered HTTP ${answer.status} to GET ${path}.`);
  };

  const document = (await get('/latest/dynamic/instance-identity/document')) ?? '';
  const signature = ((await get('/latest/dynamic/instance-identity/rsa2048')) ?? '').replace(/\s+/g, '');
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(document) as Record<string, unknown>;
  } catch {
    throw new MetadataError(`The identity document from ${origin} is not JSON.`);
  }
  const text = (key: string): string => {
    const value = fields[key];
    if (typeof value !== 'string') throw new MetadataError(`The identity document from ${origin} has no ${key}.`);
    return value;
  };
  if (signature === '') throw new MetadataError(`The metadata service at ${origin} served an empty /rsa2048 signature.`);

  // Tags: only when "tags in instance metadata" is on (404 otherwise).
  let tags: Tag[] | undefined;
  let skippedTags: string[] = [];
  const keys = await get('/latest/meta-data/tags/instance', true);
  if (keys !== undefined) {
    const all: Tag[] = [];
    for (const key of keys.split('\n').map((line) => line.trim()).filter((line) => line !== '')) {
      const value = await get(`/latest/meta-data/tags/instance/${encodeURIComponent(key)}`, true);
      if (value !== undefined) all.push({ Key: key, Value: value });
    }
    const usable = usableTags(all);
    tags = usable.tags;
    skippedTags = usable.skipped;
  }
  return { document, signature, instanceId: text('instanceId'), accountId: text('accountId'), region: text('region'), tags, skippedTags };
}
