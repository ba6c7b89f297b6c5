/**
 * One JSON POST over node:http(s). Not fetch: Node's fetch takes no per-request CA, and a pinned
 * CA must be the only one trusted.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tlsOptions } from './tls.js';

export interface JsonResponse {
  readonly status: number;
  /** The parsed body, or undefined when it was not JSON. */
  readonly body: unknown;
}

export interface PostOptions {
  readonly caPem?: string | undefined;
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

const MAX_RESPONSE = 1024 * 1024;

export function postJson(url: string, payload: unknown, options: PostOptions = {}): Promise<JsonResponse> {
  const target = new URL(url);
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    accept: 'application/json',
    ...(options.userAgent === undefined ? {} : { 'user-agent': options.userAgent }),
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const onResponse = (response: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE) {
          response.destroy(new Error(`The server's answer is larger than ${MAX_RESPONSE} bytes.`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    };
    const request =
      target.protocol === 'https:'
        ? httpsRequest(target, { method: 'POST', headers, timeout: timeoutMs, ...tlsOptions(options.caPem) }, onResponse)
        : httpRequest(target, { method: 'POST', headers, timeout: timeoutMs }, onResponse);
    request.on('timeout', () => request.destroy(new Error(`No answer from ${target.origin} within ${timeoutMs / 1000} s.`)));
    request.on('error', reject);
    request.end(body);
  });
}
