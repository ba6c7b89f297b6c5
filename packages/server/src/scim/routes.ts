/**
 * The SCIM 2.0 endpoint, `/scim/v2/…` (RFC 7644), as IAM Identity Center offers it for automatic
 * provisioning. Every request: the bearer token checked (rate-limited per address), the
 * resource handled, one audit record (eventSource identitystore-scim.amazonaws.com, as AWS's;
 * values in bodies hidden), errors in SCIM's shape, `application/scim+json` both ways.
 */
import { HIDDEN } from '@airlock/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseJsonBody } from '../http/json-body.js';
import { ANONYMOUS } from '../identity/principal.js';
import type { Services } from '../services.js';
import { oneResourceType, oneSchema, resourceTypes, schemas, serviceProviderConfig } from './discovery.js';
import { ScimError, toScimError } from './errors.js';
import { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, patchScimGroup, replaceScimGroup } from './groups.js';
import type { Json } from './resource.js';
import { scimEndpoint, verifyScimToken } from './tokens.js';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, patchScimUser, replaceScimUser } from './users.js';

const CONTENT_TYPE = 'application/scim+json; charset=utf-8';

interface Outcome {
  readonly status: number;
  readonly body?: Json;
}

type Query = Readonly<Record<string, string | undefined>>;
type Params = Readonly<Record<string, string | undefined>>;

interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  /** The audit record's eventName, as AWS names SCIM's operations. */
  readonly event: string;
  readonly run: (services: Services, request: { params: Params; query: Query; body: unknown }, now: number) => Promise<Outcome>;
}

const ok = (body: Json): Outcome => ({ status: 200, body });
const id = (params: Params): string => params['id'] ?? '';
const withMembers = (query: Query): boolean => !(query['excludedAttributes'] ?? '').toLowerCase().includes('members');

const ROUTES: readonly Route[] = [
  { method: 'GET', url: '/ServiceProviderConfig', event: 'GetServiceProviderConfig', run: (services) => Promise.resolve(ok(serviceProviderConfig(services))) },
  { method: 'GET', url: '/ResourceTypes', event: 'ListResourceTypes', run: (services) => Promise.resolve(ok(resourceTypes(services))) },
  { method: 'GET', url: '/ResourceTypes/:id', event: 'GetResourceType', run: (services, { params }) => Promise.resolve(ok(oneResourceType(services, id(params)))) },
  { method: 'GET', url: '/Schemas', event: 'ListSchemas', run: (services) => Promise.resolve(ok(schemas(services))) },
  { method: 'GET', url: '/Schemas/:id', event: 'GetSchema', run: (services, { params }) => Promise.resolve(ok(oneSchema(services, id(params)))) },
  { method: 'POST', url: '/Users', event: 'CreateUser', run: async (services, { body }, now) => ({ status: 201, body: await createScimUser(services, body, now) }) },
  { method: 'GET', url: '/Users', event: 'ListUsers', run: async (services, { query }) => ok(await listScimUsers(services, query)) },
  { method: 'GET', url: '/Users/:id', event: 'GetUser', run: async (services, { params }) => ok(await getScimUser(services, id(params))) },
  { method: 'PUT', url: '/Users/:id', event: 'PutUser', run: async (services, { params, body }, now) => ok(await replaceScimUser(services, id(params), body, now)) },
  { method: 'PATCH', url: '/Users/:id', event: 'PatchUser', run: async (services, { params, body }, now) => ok(await patchScimUser(services, id(params), body, now)) },
  { method: 'DELETE', url: '/Users/:id', event: 'DeleteUser', run: async (services, { params }) => (await deleteScimUser(services, id(params)), { status: 204 }) },
  { method: 'POST', url: '/Groups', event: 'CreateGroup', run: async (services, { body }, now) => ({ status: 201, body: await createScimGroup(services, body, now) }) },
  { method: 'GET', url: '/Groups', event: 'ListGroups', run: async (services, { query }) => ok(await listScimGroups(services, query)) },
  { method: 'GET', url: '/Groups/:id', event: 'GetGroup', run: async (services, { params, query }) => ok(await getScimGroup(services, id(params), withMembers(query))) },
  { method: 'PUT', url: '/Groups/:id', event: 'PutGroup', run: async (services, { params, body }, now) => ok(await replaceScimGroup(services, id(params), body, now)) },
  { method: 'PATCH', url: '/Groups/:id', event: 'PatchGroup', run: async (services, { params, body }, now) => ok(await patchScimGroup(services, id(params), body, now)) },
  { method: 'DELETE', url: '/Groups/:id', event: 'DeleteGroup', run: async (services, { params }) => (await deleteScimGroup(services, id(params)), { status: 204 }) },
];

/** Keys whose values say what was done, not to whom: kept in the audit record; every other string is hidden. */
const KEPT = new Set(['schemas', 'op', 'path']);

function redactBody(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return KEPT.has(key.toLowerCase()) ? value : HIDDEN;
  if (Array.isArray(value)) return value.map((item) => redactBody(item, key));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactBody(item, name)]));
  return value;
}

function send(reply: FastifyReply, outcome: Outcome): FastifyReply {
  void reply.code(outcome.status).header('content-type', CONTENT_TYPE);
  return outcome.body === undefined ? reply.send() : reply.send(JSON.stringify(outcome.body));
}

/** Runs one request to its outcome (a SCIM error included) and audits it; the caller sends it. */
async function handle(services: Services, route: Route, request: FastifyRequest, reply: FastifyReply): Promise<Outcome> {
  const now = services.clock.now();
  const params = request.params as Params;
  const query = request.query as Query;
  let tokenId: string | undefined;
  let outcome: Outcome | undefined;
  let failure: ScimError | undefined;
  try {
    tokenId = await verifyScimToken(services, request.headers.authorization, request.ip, now);
    outcome = await route.run(services, { params, query, body: request.body }, now);
    if (route.method !== 'GET') services.changes.bump();
    if (outcome.status === 201 && typeof outcome.body?.['id'] === 'string') void reply.header('location', `${scimEndpoint(services)}${route.url}/${outcome.body['id']}`);
    return outcome;
  } catch (error) {
    failure = toScimError(error);
    if (failure.status >= 500) services.log.error(`SCIM ${route.event} failed (request ${request.id})`, error);
    return { status: failure.status, body: failure.toBody() };
  } finally {
    const created = route.method === 'POST' ? outcome?.body?.['id'] : undefined;
    await services.audit.record({
      service: 'identitystore-scim',
      operation: route.event,
      readOnly: route.method === 'GET',
      principal: ANONYMOUS,
      identity: { type: 'WebIdentityUser', accountId: services.accountId, ...(tokenId === undefined ? {} : { accessKeyId: tokenId }) },
      sourceIp: request.ip,
      userAgent: request.headers['user-agent'] ?? '',
      requestId: request.id,
      time: now,
      requestParameters: {
        ...(params['id'] === undefined ? {} : { id: params['id'] }),
        ...(query['filter'] === undefined ? {} : { filter: HIDDEN }),
        ...(request.body === undefined || request.body === null ? {} : { httpBody: redactBody(request.body) }),
      },
      responseElements: typeof created === 'string' ? { id: created } : null,
      ...(failure === undefined ? {} : { error: { code: failure.scimType ?? String(failure.status), message: failure.detail } }),
    });
  }
}

/** Registers `/scim/v2/…` on the app; SCIM's media type and error shape hold inside it only. */
export function registerScimRoutes(app: FastifyInstance, services: Services): void {
  void app.register(
    (scope, _options, done) => {
      scope.addContentTypeParser('application/scim+json', { parseAs: 'string' }, (_request, body, parsed) => {
        const json = parseJsonBody(typeof body === 'string' ? body : body.toString('utf8'), undefined);
        if (json.ok) parsed(null, json.value);
        else parsed(new ScimError(400, json.message, 'invalidSyntax'), undefined);
      });
      for (const route of ROUTES) {
        scope.route({ method: route.method, url: route.url, handler: async (request, reply) => send(reply, await handle(services, route, request, reply)) });
      }
      // A wildcard, not a not-found handler: the web console's catch-all would answer first.
      scope.all('/*', (request, reply) => send(reply, { status: 404, body: new ScimError(404, `No SCIM endpoint ${request.method} ${request.url}: see /scim/v2/ResourceTypes.`).toBody() }));
      scope.setErrorHandler((error, _request, reply) => {
        const scimError = toScimError(error);
        return send(reply, { status: scimError.status, body: scimError.toBody() });
      });
      done();
    },
    { prefix: '/scim/v2' },
  );
}
