/**
 * Bearer tokens for the SCIM 2.0 provisioning endpoint (`/scim/v2/…`, docs/federation.md). IAM
 * Identity Center makes them in its console (Settings → Automatic provisioning), so these
 * operations are Airlock's own, under `sso:`. A token is shown once, at creation.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

const instanceArn = s.optional(s.string({ max: 1224 }));
export const scimTokenId = s.string({ min: 1, max: 64, pattern: /^scim-[0-9a-f]{16}$/, doc: 'scim-{16 hex}' });

const tokenSummary = s.struct({
  TokenId: s.required(scimTokenId),
  CreatedDate: s.required(s.timestamp()),
  ExpiresDate: s.required(s.timestamp()),
  LastUsedDate: s.optional(s.timestamp()),
});

export const CreateScimAccessToken = operation({
  service: 'sso',
  name: 'CreateScimAccessToken',
  summary: "Airlock's own: a bearer token for the SCIM endpoint, shown once (at most 2 live tokens; rotate by creating the second, then deleting the first).",
  input: s.struct({
    InstanceArn: instanceArn,
    ExpiresInDays: s.optional(s.integer({ min: 1, max: 365, doc: 'Default 365, as IAM Identity Center.' })),
  }),
  output: s.struct({
    TokenId: s.required(scimTokenId),
    AccessToken: s.required(s.string({ sensitive: true, doc: 'Give it to the identity provider as its SCIM bearer token; it is not shown again.' })),
    ScimEndpoint: s.required(s.string({ doc: "The provider's SCIM base URL: {public url}/scim/v2" })),
    CreatedDate: s.required(s.timestamp()),
    ExpiresDate: s.required(s.timestamp()),
  }),
});

export const ListScimAccessTokens = operation({
  service: 'sso',
  name: 'ListScimAccessTokens',
  summary: "Airlock's own: the SCIM bearer tokens (never their values), live and expired.",
  input: s.struct({ InstanceArn: instanceArn }),
  output: s.struct({ Tokens: s.required(s.list(tokenSummary)), ScimEndpoint: s.required(s.string()) }),
});

export const DeleteScimAccessToken = operation({
  service: 'sso',
  name: 'DeleteScimAccessToken',
  summary: "Airlock's own: revoke a SCIM bearer token at once.",
  input: s.struct({ InstanceArn: instanceArn, TokenId: s.required(scimTokenId) }),
  output: s.struct({}),
});

export const SCIM_TOKEN_OPERATIONS = [CreateScimAccessToken, ListScimAccessTokens, DeleteScimAccessToken] as const;
