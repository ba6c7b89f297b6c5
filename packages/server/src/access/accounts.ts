/** Service `organizations`: the accounts. The management account is made at first start. */
import { randomInt, randomUUID } from 'node:crypto';
import { ApiError, organizations as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Db } from '../storage/db.js';
import type { AccountsTable } from '../storage/schema.js';
import { decodeNextToken, page } from '../identity/paging.js';

export async function ensureManagementAccount(db: Db, accountId: string, now: number): Promise<void> {
  await db
    .insertInto('accounts')
    .values({ account_id: accountId, name: 'Management', email: 'management@airlock.local', joined_method: 'CREATED', created_at: now })
    .onConflict((conflict) => conflict.column('account_id').doNothing())
    .execute();
}

export async function findAccount(db: Db, accountId: string): Promise<AccountsTable> {
  const row = await db.selectFrom('accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `Account ${accountId} is not in the organization.`);
  return row;
}

function accountOf(row: AccountsTable, managementId: string) {
  return {
    Id: row.account_id,
    Arn: `arn:aws:organizations::${managementId}:account/o-airlock/${row.account_id}`,
    Email: row.email,
    Name: row.name,
    Status: 'ACTIVE' as const,
    JoinedMethod: row.joined_method,
    JoinedTimestamp: row.created_at / 1000,
  };
}

async function createAccount(input: InputOf<typeof api.CreateAccount>, { services, now }: CallContext) {
  let accountId = '';
  await services.db.transaction().execute(async (trx) => {
    const clash = await trx.selectFrom('accounts').select('account_id').where('name', '=', input.AccountName).executeTakeFirst();
    if (clash !== undefined) throw new ApiError('ConflictException', `An account named ${input.AccountName} exists (${clash.account_id}).`);
    do accountId = String(randomInt(100_000_000_000, 1_000_000_000_000));
    while ((await trx.selectFrom('accounts').select('account_id').where('account_id', '=', accountId).executeTakeFirst()) !== undefined);
    await trx.insertInto('accounts').values({ account_id: accountId, name: input.AccountName, email: input.Email, joined_method: 'CREATED', created_at: now }).execute();
  });
  const seconds = now / 1000;
  return {
    CreateAccountStatus: { Id: `car-${randomUUID().replace(/-/g, '')}`, AccountName: input.AccountName, State: 'SUCCEEDED' as const, AccountId: accountId, RequestedTimestamp: seconds, CompletedTimestamp: seconds },
  };
}

async function listAccounts(input: InputOf<typeof api.ListAccounts>, { services }: CallContext) {
  const size = input.MaxResults ?? 20;
  const after = decodeNextToken(input.NextToken);
  let query = services.db.selectFrom('accounts').selectAll().orderBy('account_id').limit(size + 1);
  if (after !== undefined) query = query.where('account_id', '>', after);
  const { items, nextToken } = page(await query.execute(), size, (row) => row.account_id);
  return { Accounts: items.map((row) => accountOf(row, services.accountId)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

export const ORGANIZATIONS_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateAccount, createAccount),
  bind(api.DescribeAccount, async (input, { services }) => ({ Account: accountOf(await findAccount(services.db, input.AccountId), services.accountId) })),
  bind(api.ListAccounts, listAccounts),
];
