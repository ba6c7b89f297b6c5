/**
 * The HTTP API: `POST /api/{service}/{Operation}`, JSON in and out, AWS's error shape. Every
 * call goes through the same steps (parse, validate, authenticate, authorize, run, audit),
 * whatever the operation, and every call leaves one audit record.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, redact, validate, type ErrorBody } from '@airlock/protocol';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ANONYMOUS, type Principal } from '../identity/principal.js';
import { identitySourceRoutes } from '../identity/sources/registry.js';
import type { BoundOperation, CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import { authenticate } from './authenticate.js';
import { proxyTrust } from './client-address.js';
import { clearSessionCookies, cookieToken, setSessionCookies, wantsCookie } from './browser-session.js';
import { authorize } from './authorize.js';
import { addSecurityHeaders, serveConsole, type ConsoleFiles } from './console.js';
import { parseJsonBody } from './json-body.js';

/** Far above any legitimate request (a policy is at most 32 KiB), far below harm. */
export const BODY_LIMIT = 512 * 1024;

export interface AppOptions {
  readonly services: Services;
  readonly operations: readonly BoundOperation[];
  readonly https?: { readonly cert: string; readonly key: string };
  /** The web console's files; undefined: not built (its pages say so). */
  readonly consoleFiles?: ConsoleFiles | undefined;
}

export function buildApp({ services, operations, https, consoleFiles }: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    genReqId: () => randomUUID(),
    // request.ip: the caller behind the operator's load balancers, and only theirs (client-address.ts).
    trustProxy: proxyTrust(services.config.trustedProxies),
    ...(https === undefined ? {} : { https: { cert: https.cert, key: https.key } }),
  }) as unknown as FastifyInstance;
  const byPath = new Map(operations.map((bound) => [`${bound.spec.service}/${bound.spec.name}`, bound]));

  app.addContentTypeParser(['application/json', 'application/x-amz-json-1.1'], { parseAs: 'string' }, (_request, body, done) => {
    const parsed = parseJsonBody(typeof body === 'string' ? body : body.toString('utf8'), {});
    if (parsed.ok) done(null, parsed.value);
    else done(new ApiError('SerializationException', parsed.message), undefined);
  });

  // Not async: a FastifyReply is thenable, and awaiting it would wait for the response itself.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-amzn-RequestId', request.id);
    addSecurityHeaders(reply, services.config.tls);
    done();
  });

  app.get('/healthz', async () => {
    await services.db.selectFrom('settings').select('key').limit(1).execute();
    return { status: 'ok' };
  });

  app.post<{ Params: { service: string; operation: string } }>('/api/:service/:operation', async (request, reply) => {
    const bound = byPath.get(`${request.params.service}/${request.params.operation}`);
    if (bound === undefined) {
      throw new ApiError('UnknownOperationException', `There is no operation ${request.params.service}:${request.params.operation}.`);
    }
    const result = await call(bound, request, services);
    const secure = services.config.tls;
    if (bound.spec.name === 'SignOut') clearSessionCookies(reply, secure);
    return reply.code(200).send(wantsCookie(request) ? setSessionCookies(request, reply, result, secure, services.clock.now()) : result);
  });

  // Browser sign-ins through an external identity source (OIDC, SAML): /federation/…
  identitySourceRoutes(app, services);
  serveConsole(app, consoleFiles, () => services.cluster?.nodes.streamOrigins() ?? []);

  app.setNotFoundHandler(async (request, reply) => {
    const body: ErrorBody = { __type: 'UnknownOperationException', message: `No route for ${request.method} ${request.url}. The API is POST /api/{service}/{Operation}.` };
    return reply.code(404).send(body);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) services.log.error(`request ${request.id} failed`, error);
    return reply.code(apiError.status).send(apiError.toBody());
  });

  return app;
}

async function call(bound: BoundOperation, request: FastifyRequest, services: Services): Promise<unknown> {
  const { spec } = bound;
  const time = services.clock.now();
  const input: unknown = request.body ?? {};
  let principal: Principal = ANONYMOUS;
  let output: unknown;
  let failure: ApiError | undefined;
  try {
    principal = await authenticate(request.headers.authorization ?? bearerFromCookie(request, spec.service), services);
    const problems = validate(spec.input, input);
    if (problems.length > 0) {
      const count = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected`;
      throw new ApiError('ValidationException', `${count}: ${problems.map((problem) => problem.message).join(' ')}`);
    }
    const context: CallContext = { principal, requestId: request.id, sourceIp: request.ip, userAgent: request.headers['user-agent'] ?? '', now: time, services };
    const own = principal.kind === 'role' && bound.callersOwn !== undefined && (await bound.callersOwn(input, context));
    if (!own) {
      const resources = bound.resources === undefined || principal.kind !== 'role' ? undefined : await bound.resources(input, context);
      await authorize(spec, principal, { sourceIp: request.ip, now: time, secure: services.config.tls }, services, resources);
    }
    output = await bound.handle(input, context);
    if (!spec.readOnly) services.changes.bump();
    return output;
  } catch (error) {
    failure = toApiError(error);
    if (failure.status >= 500) services.log.error(`${spec.service}:${spec.name} failed (request ${request.id})`, error);
    throw failure;
  } finally {
    await services.audit.record({
      service: spec.service,
      operation: spec.name,
      readOnly: spec.readOnly,
      principal,
      sourceIp: request.ip,
      userAgent: request.headers['user-agent'] ?? '',
      requestId: request.id,
      time,
      requestParameters: redact(spec.input, input),
      responseElements: failure === undefined ? redact(spec.output, output) : null,
      ...(failure === undefined ? {} : { error: { code: failure.code, message: failure.message } }),
    });
  }
}

function bearerFromCookie(request: FastifyRequest, service: string): string | undefined {
  const token = cookieToken(request, service);
  return token === undefined ? undefined : `Bearer ${token}`;
}

/** Any thrown value as the error the caller sees; internals are never exposed. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('RequestEntityTooLargeException', `The request body is larger than ${BODY_LIMIT} bytes.`);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('SerializationException', 'Send JSON: Content-Type: application/json.');
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new ApiError('ValidationException', error instanceof Error ? error.message : 'The request is not valid.');
  }
  return new ApiError('InternalServerException', 'The server failed to process the request. It has been logged; retry, and report the request id if it persists.');
}
