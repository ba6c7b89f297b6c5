/**
 * Choosing an account and a permission set in the portal, and the role session that follows:
 * `portal:ListAccounts`, `portal:ListAccountRoles`, `portal:GetRoleCredentials`, and
 * `sts:GetCallerIdentity` to ask who one is.
 */
import { accountId } from './organizations.js';
import { operation } from './operation.js';
import { s } from './schema.js';

const page = { MaxResults: s.optional(s.integer({ min: 1, max: 100 })), NextToken: s.optional(s.string({ max: 100_000 })) };

export const ListAccounts = operation({
  service: 'portal',
  name: 'ListAccounts',
  summary: 'The accounts where the signed-in user has a permission set.',
  caller: 'portal',
  input: s.struct(page),
  output: s.struct({
    AccountList: s.required(s.list(s.struct({ AccountId: s.required(accountId), AccountName: s.required(s.string()), EmailAddress: s.required(s.string({ sensitive: true })) }))),
    NextToken: s.optional(s.string()),
  }),
});

export const ListAccountRoles = operation({
  service: 'portal',
  name: 'ListAccountRoles',
  summary: "The signed-in user's permission sets in an account (as role names).",
  caller: 'portal',
  input: s.struct({ AccountId: s.required(accountId), ...page }),
  output: s.struct({ RoleList: s.required(s.list(s.struct({ RoleName: s.required(s.string()), AccountId: s.required(accountId) }))), NextToken: s.optional(s.string()) }),
});

export const GetRoleCredentials = operation({
  service: 'portal',
  name: 'GetRoleCredentials',
  summary: "Start a role session: the permission set's policies decide every call made with its token, until it expires (the permission set's SessionDuration).",
  caller: 'portal',
  readOnly: false,
  input: s.struct({ AccountId: s.required(accountId), RoleName: s.required(s.string({ min: 1, max: 32 })) }),
  output: s.struct({
    RoleCredentials: s.required(
      s.struct({
        AccessToken: s.required(s.string({ sensitive: true, doc: 'Send as Authorization: Bearer …' })),
        Expiration: s.required(s.integer({ doc: 'Epoch milliseconds, as the AWS portal answers.' })),
        AssumedRoleArn: s.required(s.string()),
      }),
    ),
  }),
});

export const GetCallerIdentity = operation({
  service: 'sts',
  name: 'GetCallerIdentity',
  summary: 'Who is calling: the account, the user id and the ARN.',
  caller: 'any',
  input: s.struct({}),
  output: s.struct({ UserId: s.required(s.string()), Account: s.required(accountId), Arn: s.required(s.string()) }),
});

export const ROLE_SESSION_OPERATIONS = [ListAccounts, ListAccountRoles, GetRoleCredentials, GetCallerIdentity] as const;
