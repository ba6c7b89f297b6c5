/**
 * @airlock/client: calls the Airlock API. `POST {endpoint}/api/{service}/{Operation}` with JSON,
 * errors in AWS's shape turned into AirlockApiError. Runs wherever `fetch` does (Node, browsers).
 */
import { isErrorCode, type AnyOperation, type ErrorCode, type InputOf, type OutputOf } from '@airlock/protocol';

export interface ClientOptions {
  /** The server, e.g. http://127.0.0.1:4100. */
  readonly endpointUrl: string;
  /** Sent as `Authorization: Bearer …`. Browsers use the session cookie instead. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
  /**
   * Browsers: credentials live in HttpOnly cookies the page cannot read. Each call sends the
   * cookies (same origin only), asks sign-in calls to answer with cookies rather than tokens
   * (`x-airlock-auth: cookie`), and echoes the CSRF cookie's value in `x-airlock-csrf`.
   */
  readonly browserSession?: { readonly csrfToken: () => string | undefined };
}

export class AirlockApiError extends Error {
  override readonly name = 'AirlockApiError';

  constructor(
    /** AWS's error name, or `HttpError` when the server did not answer in the API's shape. */
    readonly code: ErrorCode | 'HttpError' | 'NetworkError',
    message: string,
    readonly status: number,
    readonly requestId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AirlockClient {
  private readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.base = options.endpointUrl.replace(/\/+$/, '');
  }

  call<Op extends AnyOperation>(operation: Op, input: InputOf<Op>): Promise<OutputOf<Op>> {
    return this.callByName(operation.service, operation.name, input) as Promise<OutputOf<Op>>;
  }

  async callByName(service: string, name: string, input: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    if (this.options.userAgent !== undefined) headers['user-agent'] = this.options.userAgent;
    const browser = this.options.browserSession;
    if (browser !== undefined) {
      headers['x-airlock-auth'] = 'cookie';
      const csrf = browser.csrfToken();
      if (csrf !== undefined) headers['x-airlock-csrf'] = csrf;
    }
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      const init: RequestInit = { method: 'POST', headers, body: JSON.stringify(input) };
      if (browser !== undefined) init.credentials = 'same-origin';
      response = await doFetch(`${this.base}/api/${service}/${name}`, init);
    } catch (cause) {
      const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
      throw new AirlockApiError('NetworkError', `Cannot reach ${this.base}: ${reason}`, 0, undefined, { cause });
    }
    const requestId = response.headers.get('x-amzn-requestid') ?? undefined;
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok && body !== undefined) return body;
    const error = body as { __type?: unknown; message?: unknown } | undefined;
    if (error !== undefined && isErrorCode(error.__type) && typeof error.message === 'string') {
      throw new AirlockApiError(error.__type, error.message, response.status, requestId);
    }
    throw new AirlockApiError('HttpError', `${this.base} answered HTTP ${response.status} without an API error body.`, response.status, requestId);
  }
}
