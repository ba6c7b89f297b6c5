/**
 * Systems Manager's document operations, for Session documents: CreateDocument, GetDocument,
 * DescribeDocument, UpdateDocument, UpdateDocumentDefaultVersion, ListDocuments, DeleteDocument.
 * Each is authorized on the document's ARN (`arn:aws:ssm:{region}:{account}:document/{name}`,
 * AWS's without the account), with its tags. AWS's documents are read-only; the account's
 * SSM-SessionManagerRunShell holds its session preferences.
 */
import { ApiError, documents as api, ownValue, type InputOf } from '@airlock/protocol';
import { decodeToken, encodeToken } from '../fleet/paging.js';
import { checkTags } from '../fleet/tags.js';
import { callerAccount } from '../identity/principal.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { readContent } from './document-content.js';
import {
  addVersion,
  deleteDocument as deleteStored,
  documentResource,
  findVersion,
  insertDocument,
  listRecords,
  requireRecord,
  setDefaultVersion,
  type DocumentRecord,
  type VersionRecord,
} from './document-store.js';
import { documentArn, RESERVED_PREFIX, RUN_SHELL } from './documents.js';

/** Airlock's Session documents run on Linux instances. */
const PLATFORM_TYPES: ('Windows' | 'Linux' | 'MacOS')[] = ['Linux'];

function checkFormat(format: string | undefined): void {
  if (format !== undefined && format !== 'JSON') throw new ApiError('ValidationException', `DocumentFormat ${format} is not supported: Airlock reads and returns Session documents in JSON only.`);
}

/** New content for the named document: JSON, at most 64 KB, a valid Session document; Standard_Stream for the preferences. */
function checkContent(name: string, content: string, format: string | undefined): void {
  checkFormat(format);
  const bytes = new TextEncoder().encode(content).length;
  if (bytes > api.MAX_DOCUMENT_BYTES) throw new ApiError('MaxDocumentSizeExceeded', `The content is ${bytes} bytes: a document holds at most ${api.MAX_DOCUMENT_BYTES} (64 KB).`);
  const { spec } = readContent(content);
  if (name === RUN_SHELL && spec.sessionType !== 'Standard_Stream') {
    throw new ApiError('InvalidDocumentContent', `sessionType must be Standard_Stream for ${RUN_SHELL}: it holds the account's session preferences.`);
  }
}

function writable(record: DocumentRecord): void {
  if (record.owner === 'Amazon') throw new ApiError('InvalidDocumentOperation', `${record.name} is AWS's, and read-only: publish your own with CreateDocument.`);
}

const newVersion = (input: { readonly Content: string; readonly VersionName?: string; readonly TargetType?: string }) => ({
  content: input.Content,
  versionName: input.VersionName ?? null,
  targetType: input.TargetType ?? null,
});

/** The fields ListDocuments and DescribeDocument share. */
function identifier(accountId: string, record: DocumentRecord, version: Pick<VersionRecord, 'version' | 'versionName' | 'targetType' | 'createdAt'>) {
  return {
    Name: record.name,
    ...(version.createdAt === null ? {} : { CreatedDate: version.createdAt / 1000 }),
    Owner: record.owner === 'Amazon' ? 'Amazon' : accountId,
    ...(version.versionName === null ? {} : { VersionName: version.versionName }),
    PlatformTypes: PLATFORM_TYPES,
    DocumentVersion: String(version.version),
    DocumentType: 'Session' as const,
    SchemaVersion: '1.0',
    DocumentFormat: 'JSON' as const,
    ...(version.targetType === null ? {} : { TargetType: version.targetType }),
    Tags: [...record.tags],
  };
}

function description(accountId: string, record: DocumentRecord, version: VersionRecord) {
  const { description: text, parameters } = readContent(version.content);
  return {
    ...identifier(accountId, record, version),
    Hash: version.hash,
    HashType: 'Sha256' as const,
    Status: 'Active' as const,
    ...(text === '' ? {} : { Description: text }),
    Parameters: Object.entries(parameters).map(([name, parameter]) => ({
      Name: name,
      Type: parameter.type,
      ...(parameter.description === '' ? {} : { Description: parameter.description }),
      ...(parameter.default === undefined ? {} : { DefaultValue: parameter.default.join(',') }),
    })),
    LatestVersion: String(record.latestVersion),
    DefaultVersion: String(record.defaultVersion),
  };
}

async function describeVersion(context: CallContext, name: string, selector: { readonly DocumentVersion?: string; readonly VersionName?: string }) {
  const accountId = callerAccount(context.principal);
  const record = await requireRecord(context.services.db, accountId, name);
  return description(accountId, record, await findVersion(context.services.db, accountId, record, selector));
}

async function createDocument(input: InputOf<typeof api.CreateDocument>, context: CallContext) {
  const { services, principal, now } = context;
  if (input.DocumentType !== 'Session') {
    throw new ApiError('ValidationException', `DocumentType ${input.DocumentType ?? 'Command (the default)'} is not supported: Airlock keeps Session documents only; give DocumentType Session.`);
  }
  if (RESERVED_PREFIX.test(input.Name)) throw new ApiError('ValidationException', `${input.Name}: document names cannot begin with aws-, amazon or amzn, which are AWS's.`);
  checkContent(input.Name, input.Content, input.DocumentFormat);
  await insertDocument(services.db, callerAccount(principal), input.Name, newVersion(input), checkTags(input.Tags ?? []), now);
  return { DocumentDescription: await describeVersion(context, input.Name, { DocumentVersion: '1' }) };
}

async function getDocument(input: InputOf<typeof api.GetDocument>, { services, principal }: CallContext) {
  checkFormat(input.DocumentFormat);
  const accountId = callerAccount(principal);
  const record = await requireRecord(services.db, accountId, input.Name);
  const version = await findVersion(services.db, accountId, record, input);
  return {
    Name: record.name,
    ...(version.createdAt === null ? {} : { CreatedDate: version.createdAt / 1000 }),
    ...(version.versionName === null ? {} : { VersionName: version.versionName }),
    DocumentVersion: String(version.version),
    Status: 'Active' as const,
    Content: version.content,
    DocumentType: 'Session' as const,
    DocumentFormat: 'JSON' as const,
  };
}

async function updateDocument(input: InputOf<typeof api.UpdateDocument>, context: CallContext) {
  const { services, principal, now } = context;
  const accountId = callerAccount(principal);
  const record = await requireRecord(services.db, accountId, input.Name);
  writable(record);
  const latest = String(record.latestVersion);
  if (input.DocumentVersion !== undefined && input.DocumentVersion !== '$LATEST' && input.DocumentVersion !== latest) {
    throw new ApiError('InvalidDocumentVersion', `Only the latest version of ${record.name} can be updated: give DocumentVersion $LATEST or ${latest}, not ${input.DocumentVersion}.`);
  }
  checkContent(record.name, input.Content, input.DocumentFormat);
  // The preferences' new version is the one in force at once, as AWS's guide changes them with update-document alone.
  const version = await addVersion(services.db, accountId, record, newVersion(input), { makeDefault: record.name === RUN_SHELL, now });
  return { DocumentDescription: await describeVersion(context, record.name, { DocumentVersion: String(version) }) };
}

async function updateDocumentDefaultVersion(input: InputOf<typeof api.UpdateDocumentDefaultVersion>, { services, principal }: CallContext) {
  const accountId = callerAccount(principal);
  const record = await requireRecord(services.db, accountId, input.Name);
  writable(record);
  const version = await findVersion(services.db, accountId, record, { DocumentVersion: input.DocumentVersion });
  if (record.stored) await setDefaultVersion(services.db, accountId, record.name, version.version);
  return { Description: { Name: record.name, DefaultVersion: String(version.version), ...(version.versionName === null ? {} : { DefaultVersionName: version.versionName }) } };
}

async function describeDocument(input: InputOf<typeof api.DescribeDocument>, context: CallContext) {
  return { Document: await describeVersion(context, input.Name, input) };
}

async function deleteDocument(input: InputOf<typeof api.DeleteDocument>, { services, principal }: CallContext) {
  const accountId = callerAccount(principal);
  const record = await requireRecord(services.db, accountId, input.Name);
  writable(record);
  // SSM-SessionManagerRunShell never set holds the defaults already: nothing to delete.
  if (!record.stored) return {};
  const one = input.DocumentVersion !== undefined || input.VersionName !== undefined;
  await deleteStored(services.db, accountId, record, one ? (await findVersion(services.db, accountId, record, input)).version : undefined);
  return {};
}

/* ---------------------------------------------------------------- ListDocuments */

type Match = (record: DocumentRecord) => boolean;

const OWNERS: Readonly<Record<string, Match>> = {
  Self: (record) => record.owner === 'Self',
  Private: (record) => record.owner === 'Self',
  Amazon: (record) => record.owner === 'Amazon',
  Public: (record) => record.owner === 'Amazon',
  ThirdParty: () => false,
  All: () => true,
};

function filter(key: string | undefined, values: readonly string[] | undefined): Match {
  if (values === undefined || values.length === 0) throw new ApiError('ValidationException', `The filter ${key ?? ''} needs Values.`);
  switch (key) {
    case 'Owner': {
      const owners = values.map((value) => {
        const match = ownValue(OWNERS, value);
        if (match === undefined) throw new ApiError('ValidationException', `Owner ${value} is not an owner: use ${Object.keys(OWNERS).join(', ')}.`);
        return match;
      });
      return (record) => owners.some((match) => match(record));
    }
    case 'Name':
      return (record) => values.some((value) => record.name.startsWith(value));
    case 'DocumentType':
      return () => values.includes('Session');
    case 'PlatformTypes':
      return () => PLATFORM_TYPES.some((platform) => values.includes(platform));
    case 'TargetType':
      return (record) => record.targetType !== null && values.includes(record.targetType);
    default:
      if (key?.startsWith('tag:') === true) {
        const tagKey = key.slice('tag:'.length);
        return (record) => record.tags.some((tag) => tag.Key === tagKey && values.includes(tag.Value));
      }
      throw new ApiError('InvalidFilterKey', `${key ?? 'A filter without a Key'} is not a ListDocuments filter: use Owner, Name, DocumentType, PlatformTypes, TargetType or tag:KEY.`);
  }
}

async function listDocuments(input: InputOf<typeof api.ListDocuments>, { services, principal }: CallContext) {
  const accountId = callerAccount(principal);
  const size = input.MaxResults ?? 50;
  const matches = [...(input.DocumentFilterList ?? []).map((legacy) => filter(legacy.key, [legacy.value])), ...(input.Filters ?? []).map((given) => filter(given.Key, given.Values))];
  const after = decodeToken(input.NextToken);
  const found = (await listRecords(services.db, accountId)).filter((record) => (after === undefined || record.name > after) && matches.every((match) => match(record)));
  const page = found.slice(0, size);
  const last = page[page.length - 1];
  return {
    DocumentIdentifiers: page.map((record) => identifier(accountId, record, { version: record.defaultVersion, versionName: record.versionName, targetType: record.targetType, createdAt: record.createdAt })),
    ...(found.length > size && last !== undefined ? { NextToken: encodeToken(last.name) } : {}),
  };
}

const named = (input: { readonly Name: string }, context: CallContext) => documentResource(input.Name, context).then((resource) => [resource]);

export const DOCUMENT_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateDocument, createDocument, { resources: (input, { services, principal }) => Promise.resolve([{ arn: documentArn(services.config.region, callerAccount(principal), input.Name) }]) }),
  bind(api.GetDocument, getDocument, { resources: named }),
  bind(api.DescribeDocument, describeDocument, { resources: named }),
  bind(api.UpdateDocument, updateDocument, { resources: named }),
  bind(api.UpdateDocumentDefaultVersion, updateDocumentDefaultVersion, { resources: named }),
  bind(api.ListDocuments, listDocuments),
  bind(api.DeleteDocument, deleteDocument, { resources: named }),
];
