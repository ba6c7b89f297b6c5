/**
 * Service `organizations`: the accounts of the organization. Every instance, session, document
 * and log group belongs to one account; the management account is made at first start.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

export const accountId = s.string({ min: 12, max: 12, pattern: /^\d{12}$/, doc: 'Twelve digits.' });
const account = s.struct({
  Id: s.required(accountId),
  Arn: s.required(s.string()),
  Email: s.required(s.string({ sensitive: true })),
  Name: s.required(s.string()),
  Status: s.required(s.enum(['ACTIVE'] as const)),
  JoinedMethod: s.required(s.enum(['CREATED', 'INVITED'] as const)),
  JoinedTimestamp: s.required(s.timestamp()),
});

export const CreateAccount = operation({
  service: 'organizations',
  name: 'CreateAccount',
  summary: 'Add an account to the organization (done at once: State SUCCEEDED).',
  input: s.struct({
    AccountName: s.required(s.string({ min: 1, max: 50, pattern: /^[\u0020-\u007E]+$/ })),
    Email: s.required(s.string({ min: 6, max: 64, pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, sensitive: true })),
  }),
  output: s.struct({
    CreateAccountStatus: s.required(
      s.struct({
        Id: s.required(s.string()),
        AccountName: s.required(s.string()),
        State: s.required(s.enum(['SUCCEEDED'] as const)),
        AccountId: s.required(accountId),
        RequestedTimestamp: s.required(s.timestamp()),
        CompletedTimestamp: s.required(s.timestamp()),
      }),
    ),
  }),
});

export const DescribeAccount = operation({
  service: 'organizations',
  name: 'DescribeAccount',
  summary: 'An account.',
  input: s.struct({ AccountId: s.required(accountId) }),
  output: s.struct({ Account: s.required(account) }),
});

export const ListAccounts = operation({
  service: 'organizations',
  name: 'ListAccounts',
  summary: 'The accounts of the organization.',
  input: s.struct({ MaxResults: s.optional(s.integer({ min: 1, max: 20 })), NextToken: s.optional(s.string({ max: 100_000 })) }),
  output: s.struct({ Accounts: s.required(s.list(account)), NextToken: s.optional(s.string()) }),
});

export const ORGANIZATIONS_OPERATIONS = [CreateAccount, DescribeAccount, ListAccounts] as const;
