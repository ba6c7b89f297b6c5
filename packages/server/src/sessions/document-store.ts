/**
 * The Session documents an account sees, behind one view: AWS's (built in, one version, read-only),
 * the account's own (stored with their versions), and SSM-SessionManagerRunShell, which holds the
 * default preferences until the account stores its own. Names and ARNs name documents of the
 * caller's account only.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '@airlock/protocol';
import type { Tag } from '../fleet/tags.js';
import { callerAccount } from '../identity/principal.js';
import type { CallContext, ResourceRef } from '../registry/handler.js';
import type { Db } from '../storage/db.js';
import type { SessionDocumentsTable, SessionDocumentVersionsTable } from '../storage/schema.js';
import { readContent, type Preferences } from './document-content.js';
import { AWS_DOCUMENTS, DEFAULT_PREFERENCES, DEFAULT_RUN_SHELL_CONTENT, documentArn, noSuchDocument, ownerOf, parseDocumentName, RUN_SHELL, type SessionDocument } from './documents.js';

/** AWS's quotas: documents per account, versions per document. */
export const MAX_DOCUMENTS = 500;
export const MAX_VERSIONS = 1000;

export interface DocumentRecord {
  readonly name: string;
  readonly owner: 'Amazon' | 'Self';
  /** False for AWS's documents, and for SSM-SessionManagerRunShell until the account sets it: one built-in version. */
  readonly stored: boolean;
  readonly createdAt: number | null;
  readonly defaultVersion: number;
  readonly latestVersion: number;
  readonly tags: readonly Tag[];
  /** The default version's name and target type. */
  readonly versionName: string | null;
  readonly targetType: string | null;
}

export interface VersionRecord {
  readonly version: number;
  readonly content: string;
  /** SHA-256 of the content, hex. */
  readonly hash: string;
  readonly versionName: string | null;
  readonly targetType: string | null;
  readonly createdAt: number | null;
}

export interface NewVersion {
  readonly content: string;
  readonly versionName: string | null;
  readonly targetType: string | null;
}

/** `$LATEST`, `$DEFAULT` or a number, and/or a version name, as GetDocument and the others take them. */
export interface VersionSelector {
  readonly DocumentVersion?: string;
  readonly VersionName?: string;
}

const sha256 = (content: string): string => createHash('sha256').update(content).digest('hex');

const builtInRecord = (name: string): DocumentRecord => ({
  name,
  owner: ownerOf(name),
  stored: false,
  createdAt: null,
  defaultVersion: 1,
  latestVersion: 1,
  tags: [],
  versionName: null,
  targetType: null,
});

function builtInVersion(name: string): VersionRecord {
  const content = AWS_DOCUMENTS.get(name)?.content ?? DEFAULT_RUN_SHELL_CONTENT;
  return { version: 1, content, hash: sha256(content), versionName: null, targetType: null, createdAt: null };
}

function records(db: Db, accountId: string) {
  return db
    .selectFrom('session_documents as d')
    .leftJoin('session_document_versions as v', (join) => join.onRef('v.account_id', '=', 'd.account_id').onRef('v.name', '=', 'd.name').onRef('v.version', '=', 'd.default_version'))
    .select(['d.name', 'd.created_at', 'd.default_version', 'd.latest_version', 'd.tags', 'v.version_name', 'v.target_type'])
    .where('d.account_id', '=', accountId);
}

type RecordRow = Pick<SessionDocumentsTable, 'name' | 'created_at' | 'default_version' | 'latest_version' | 'tags'> & { version_name: string | null; target_type: string | null };

const toRecord = (row: RecordRow): DocumentRecord => ({
  name: row.name,
  owner: 'Self',
  stored: true,
  createdAt: row.created_at,
  defaultVersion: row.default_version,
  latestVersion: row.latest_version,
  tags: JSON.parse(row.tags) as Tag[],
  versionName: row.version_name,
  targetType: row.target_type,
});

const toVersion = (row: SessionDocumentVersionsTable): VersionRecord => ({
  version: row.version,
  content: row.content,
  hash: row.hash,
  versionName: row.version_name,
  targetType: row.target_type,
  createdAt: row.created_at,
});

/** The document by name or ARN; undefined when the caller's account does not see one so named. */
export async function findRecord(db: Db, accountId: string, nameOrArn: string): Promise<DocumentRecord | undefined> {
  const { name, account } = parseDocumentName(nameOrArn);
  const owner = ownerOf(name);
  if (account !== undefined && account !== (owner === 'Amazon' ? '' : accountId)) return undefined;
  if (owner === 'Amazon') return AWS_DOCUMENTS.has(name) ? builtInRecord(name) : undefined;
  const row = await records(db, accountId).where('d.name', '=', name).executeTakeFirst();
  if (row !== undefined) return toRecord(row);
  return name === RUN_SHELL ? builtInRecord(name) : undefined;
}

export async function requireRecord(db: Db, accountId: string, nameOrArn: string): Promise<DocumentRecord> {
  const record = await findRecord(db, accountId, nameOrArn);
  if (record === undefined) throw noSuchDocument(nameOrArn);
  return record;
}

/** Every document the account sees, by name. */
export async function listRecords(db: Db, accountId: string): Promise<DocumentRecord[]> {
  const stored = (await records(db, accountId).execute()).map(toRecord);
  const builtIn = [...AWS_DOCUMENTS.keys(), ...(stored.some((record) => record.name === RUN_SHELL) ? [] : [RUN_SHELL])].map(builtInRecord);
  return [...builtIn, ...stored].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The version asked for: the default one when neither a version nor a name is given. */
export async function findVersion(db: Db, accountId: string, record: DocumentRecord, selector: VersionSelector): Promise<VersionRecord> {
  const { DocumentVersion: asked, VersionName: versionName } = selector;
  const number = asked === '$LATEST' ? record.latestVersion : asked === '$DEFAULT' || (asked === undefined && versionName === undefined) ? record.defaultVersion : asked === undefined ? undefined : Number(asked);
  const missing = (): ApiError => {
    const which = `version${number === undefined ? '' : ` ${number}`}${versionName === undefined ? '' : ` named ${versionName}`}`;
    return new ApiError('InvalidDocumentVersion', `${record.name} has no ${which}: its latest version is ${record.latestVersion}, its default ${record.defaultVersion}.`);
  };
  if (!record.stored) {
    if (number !== 1 && number !== undefined) throw missing();
    if (versionName !== undefined) throw missing();
    return builtInVersion(record.name);
  }
  let query = db.selectFrom('session_document_versions').selectAll().where('account_id', '=', accountId).where('name', '=', record.name);
  if (number !== undefined) query = query.where('version', '=', number);
  if (versionName !== undefined) query = query.where('version_name', '=', versionName);
  const row = await query.executeTakeFirst();
  if (row === undefined) throw missing();
  return toVersion(row);
}

/** The document StartSession runs (its default version), checked again as it is read. */
export async function loadSessionDocument(db: Db, accountId: string, nameOrArn: string): Promise<SessionDocument> {
  const record = await requireRecord(db, accountId, nameOrArn);
  const builtIn = AWS_DOCUMENTS.get(record.name);
  if (record.owner === 'Amazon' && builtIn !== undefined) return builtIn.document;
  const version = await findVersion(db, accountId, record, {});
  return { name: record.name, owner: record.owner, ...readContent(version.content) };
}

/** The account's preferences: SSM-SessionManagerRunShell's inputs, or the defaults. */
export async function accountPreferences(db: Db, accountId: string): Promise<Preferences> {
  const { spec } = await loadSessionDocument(db, accountId, RUN_SHELL);
  return spec.sessionType === 'Standard_Stream' ? spec.preferences : DEFAULT_PREFERENCES;
}

/** The document as a resource for the access check: its ARN, with its tags when it is the account's. */
export async function documentResource(nameOrArn: string, { services, principal }: CallContext): Promise<ResourceRef> {
  const accountId = callerAccount(principal);
  const arn = documentArn(services.config.region, accountId, parseDocumentName(nameOrArn).name);
  const record = await findRecord(services.db, accountId, nameOrArn);
  return record?.stored === true ? { arn, tags: Object.fromEntries(record.tags.map((tag) => [tag.Key, tag.Value])) } : { arn };
}

/* ---------------------------------------------------------------- writing */

function versionRow(accountId: string, name: string, version: number, given: NewVersion, now: number): SessionDocumentVersionsTable {
  return { account_id: accountId, name, version, content: given.content, hash: sha256(given.content), version_name: given.versionName, target_type: given.targetType, created_at: now };
}

/** A new document, version 1. */
export async function insertDocument(db: Db, accountId: string, name: string, first: NewVersion, tags: readonly Tag[], now: number): Promise<void> {
  const { count } = await db.selectFrom('session_documents').select((eb) => eb.fn.countAll().as('count')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  if (Number(count) >= MAX_DOCUMENTS) throw new ApiError('DocumentLimitExceeded', `The account has ${MAX_DOCUMENTS} documents, as many as it may: delete one first.`);
  await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('session_documents')
      .values({ account_id: accountId, name, created_at: now, default_version: 1, latest_version: 1, tags: JSON.stringify(tags) })
      .onConflict((conflict) => conflict.columns(['account_id', 'name']).doNothing())
      .executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) throw new ApiError('DocumentAlreadyExists', `A document named ${name} exists already: UpdateDocument makes a new version of it.`);
    await trx.insertInto('session_document_versions').values(versionRow(accountId, name, 1, first, now)).execute();
  });
}

/**
 * A new latest version; returns its number. SSM-SessionManagerRunShell's first update stores the
 * defaults as version 1 before it.
 */
export async function addVersion(db: Db, accountId: string, record: DocumentRecord, given: NewVersion, options: { readonly makeDefault: boolean; readonly now: number }): Promise<number> {
  const { name } = record;
  if (!record.stored) await insertDocument(db, accountId, name, { content: DEFAULT_RUN_SHELL_CONTENT, versionName: null, targetType: null }, [], options.now);
  const hash = sha256(given.content);
  const clash = await db
    .selectFrom('session_document_versions')
    .select(['version', 'hash'])
    .where('account_id', '=', accountId)
    .where('name', '=', name)
    .where((eb) => eb.or([eb('hash', '=', hash), ...(given.versionName === null ? [] : [eb('version_name', '=', given.versionName)])]))
    .executeTakeFirst();
  if (clash?.hash === hash) throw new ApiError('DuplicateDocumentContent', `Version ${clash.version} of ${name} has this content already.`);
  if (clash !== undefined) throw new ApiError('DuplicateDocumentVersionName', `Version ${clash.version} of ${name} is named ${given.versionName ?? ''} already: give the new version another name.`);
  if (record.latestVersion >= MAX_VERSIONS) throw new ApiError('DocumentVersionLimitExceeded', `${name} has ${MAX_VERSIONS} versions, as many as it may: delete old ones first.`);
  const next = record.latestVersion + 1;
  await db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('session_documents')
      .set({ latest_version: next, ...(options.makeDefault ? { default_version: next } : {}) })
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .where('latest_version', '=', record.latestVersion)
      .executeTakeFirst();
    if (moved.numUpdatedRows === 0n) throw new ApiError('TooManyUpdates', `${name} was updated meanwhile: read it again, then update it.`);
    await trx.insertInto('session_document_versions').values(versionRow(accountId, name, next, given, options.now)).execute();
  });
  return next;
}

export async function setDefaultVersion(db: Db, accountId: string, name: string, version: number): Promise<void> {
  await db.updateTable('session_documents').set({ default_version: version }).where('account_id', '=', accountId).where('name', '=', name).execute();
}

/** The whole document, or one version of it (never the default one). */
export async function deleteDocument(db: Db, accountId: string, record: DocumentRecord, version?: number): Promise<void> {
  const { name } = record;
  if (version === record.defaultVersion) {
    throw new ApiError('InvalidDocumentOperation', `Version ${version} is ${name}'s default version: make another the default (UpdateDocumentDefaultVersion), or delete the whole document.`);
  }
  await db.transaction().execute(async (trx) => {
    let versions = trx.deleteFrom('session_document_versions').where('account_id', '=', accountId).where('name', '=', name);
    if (version !== undefined) versions = versions.where('version', '=', version);
    await versions.execute();
    if (version === undefined) {
      await trx.deleteFrom('session_documents').where('account_id', '=', accountId).where('name', '=', name).execute();
      return;
    }
    const { latest } = await trx.selectFrom('session_document_versions').select((eb) => eb.fn.max('version').as('latest')).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirstOrThrow();
    await trx.updateTable('session_documents').set({ latest_version: latest }).where('account_id', '=', accountId).where('name', '=', name).execute();
  });
}
