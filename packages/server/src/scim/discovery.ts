/**
 * What a SCIM client reads to learn this server (RFC 7644 §4, RFC 7643 §5–7): the features
 * (PATCH yes, bulk, sort and ETags no, filters of one `eq`), the two resource types, and their
 * schemas, listing exactly the attributes Airlock keeps.
 */
import type { Services } from '../services.js';
import { ScimError } from './errors.js';
import { MAX_PAGE, GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA, type Json } from './resource.js';
import { scimEndpoint } from './tokens.js';

const CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export function serviceProviderConfig(services: Services): Json {
  return {
    schemas: [CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'Bearer token', description: 'A token from sso:CreateScimAccessToken in the Authorization header.', primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${scimEndpoint(services)}/ServiceProviderConfig` },
  };
}

function resourceType(services: Services, name: 'User' | 'Group'): Json {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: name,
    name,
    endpoint: `/${name}s`,
    schema: name === 'User' ? USER_SCHEMA : GROUP_SCHEMA,
    meta: { resourceType: 'ResourceType', location: `${scimEndpoint(services)}/ResourceTypes/${name}` },
  };
}

interface AttributeSpec {
  readonly name: string;
  readonly type?: 'string' | 'boolean' | 'complex' | 'reference';
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly caseExact?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable';
  readonly uniqueness?: 'none' | 'server';
  readonly subAttributes?: readonly AttributeSpec[];
}

function attributeOf(spec: AttributeSpec): Json {
  return {
    name: spec.name,
    type: spec.type ?? 'string',
    multiValued: spec.multiValued ?? false,
    required: spec.required ?? false,
    caseExact: spec.caseExact ?? false,
    mutability: spec.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: spec.uniqueness ?? 'none',
    ...(spec.subAttributes === undefined ? {} : { subAttributes: spec.subAttributes.map(attributeOf) }),
  };
}

const strings = (...names: string[]): AttributeSpec[] => names.map((name) => ({ name }));
const typedValue = (extra: AttributeSpec[] = []): AttributeSpec[] => [...strings('value', 'type'), ...extra, { name: 'primary', type: 'boolean' }];

const USER_ATTRIBUTES: readonly AttributeSpec[] = [
  { name: 'userName', required: true, uniqueness: 'server' },
  { name: 'name', type: 'complex', subAttributes: strings('formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix') },
  ...strings('displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'),
  { name: 'active', type: 'boolean' },
  { name: 'emails', type: 'complex', multiValued: true, subAttributes: typedValue() },
  { name: 'phoneNumbers', type: 'complex', multiValued: true, subAttributes: typedValue() },
  {
    name: 'addresses',
    type: 'complex',
    multiValued: true,
    subAttributes: [...strings('formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'), { name: 'primary', type: 'boolean' }],
  },
];

const GROUP_ATTRIBUTES: readonly AttributeSpec[] = [
  { name: 'displayName', required: true, uniqueness: 'server' },
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    subAttributes: [{ name: 'value', mutability: 'immutable' }, { name: '$ref', type: 'reference', mutability: 'immutable' }, { name: 'display', mutability: 'readOnly' }],
  },
];

function schemaOf(services: Services, id: string): Json {
  const user = id === USER_SCHEMA;
  return {
    schemas: [SCHEMA_SCHEMA],
    id,
    name: user ? 'User' : 'Group',
    description: user ? 'User Account' : 'Group',
    attributes: (user ? USER_ATTRIBUTES : GROUP_ATTRIBUTES).map(attributeOf),
    meta: { resourceType: 'Schema', location: `${scimEndpoint(services)}/Schemas/${id}` },
  };
}

const list = (resources: Json[]): Json => ({ schemas: [LIST_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

export const resourceTypes = (services: Services): Json => list([resourceType(services, 'User'), resourceType(services, 'Group')]);

export function oneResourceType(services: Services, name: string): Json {
  if (name !== 'User' && name !== 'Group') throw new ScimError(404, `There is no resource type ${name}: User and Group.`);
  return resourceType(services, name);
}

export const schemas = (services: Services): Json => list([schemaOf(services, USER_SCHEMA), schemaOf(services, GROUP_SCHEMA)]);

export function oneSchema(services: Services, id: string): Json {
  if (id !== USER_SCHEMA && id !== GROUP_SCHEMA) throw new ScimError(404, `There is no schema ${id}: ${USER_SCHEMA} and ${GROUP_SCHEMA}.`);
  return schemaOf(services, id);
}
