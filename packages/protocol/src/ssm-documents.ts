/**
 * Service `ssm`, documents: publishing Session documents and the account's preferences
 * (SSM-SessionManagerRunShell). Names, fields and errors as AWS Systems Manager's; Airlock keeps
 * Session documents only, in JSON.
 */
import { operation } from './operation.js';
import { s } from './schema.js';
import { tag } from './ssm-fleet.js';
import { DOCUMENT_NAME } from './ssm-sessions.js';

/** A name a new document may have (no ARN). */
export const NEW_DOCUMENT_NAME = /^[a-zA-Z0-9_\-.]{3,128}$/;
/** `$LATEST`, `$DEFAULT` or a version number. */
export const DOCUMENT_VERSION = /^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$/;
export const VERSION_NAME = /^[a-zA-Z0-9_\-.]{1,128}$/;
/** The size AWS allows a document's content, in bytes. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/** AWS's document types; Airlock keeps Session documents only and refuses the others by name. */
export const DOCUMENT_TYPES = [
  'Command',
  'Policy',
  'Automation',
  'Session',
  'Package',
  'ApplicationConfiguration',
  'ApplicationConfigurationSchema',
  'DeploymentStrategy',
  'ChangeCalendar',
  'Automation.ChangeTemplate',
  'ProblemAnalysis',
  'ProblemAnalysisTemplate',
  'CloudFormation',
  'ConformancePackTemplate',
  'QuickSetup',
  'ManualApprovalPolicy',
  'AutoApprovalPolicy',
] as const;
export const DOCUMENT_FORMATS = ['YAML', 'JSON', 'TEXT'] as const;
export const DOCUMENT_STATUSES = ['Creating', 'Active', 'Updating', 'Deleting', 'Failed'] as const;
export const PLATFORM_TYPES = ['Windows', 'Linux', 'MacOS'] as const;

const nameOrArn = s.string({ min: 3, max: 128, pattern: DOCUMENT_NAME, doc: 'The document: its name, or its ARN.' });
const newName = s.string({ min: 3, max: 128, pattern: NEW_DOCUMENT_NAME, doc: 'Letters, digits, _ - and .; not beginning with aws-, amazon or amzn.' });
const documentVersion = s.string({ pattern: DOCUMENT_VERSION, doc: '$LATEST, $DEFAULT or a version number (1, 2, …).' });
const versionName = s.string({ min: 1, max: 128, pattern: VERSION_NAME, doc: 'A name for the version, unique within the document (e.g. Release12.1).' });
const content = s.string({ min: 1, doc: 'The document as JSON: schemaVersion "1.0", sessionType, and parameters, properties or inputs as the session type needs.' });
const format = s.enum(DOCUMENT_FORMATS, 'JSON (Airlock reads and returns JSON only).');
const targetType = s.string({ max: 200, pattern: /^\/[\w.\-:/]*$/, doc: 'The kind of resource the document runs on, e.g. /AWS::EC2::Instance.' });
const tags = s.list(tag, { max: 1000 });
/** What CreateDocument and UpdateDocument both take: a version's content and its names. */
const versionFields = {
  Content: s.required(content),
  Name: s.required(newName),
  VersionName: s.optional(versionName),
  DocumentFormat: s.optional(format),
  TargetType: s.optional(targetType),
};

const documentParameter = s.struct({
  Name: s.optional(s.string()),
  Type: s.optional(s.enum(['String', 'StringList'] as const)),
  Description: s.optional(s.string()),
  DefaultValue: s.optional(s.string()),
});

/** AWS's DocumentIdentifier (ListDocuments): what DocumentDescription has as well. */
const identifierFields = {
  Name: s.optional(s.string()),
  CreatedDate: s.optional(s.timestamp()),
  Owner: s.optional(s.string({ doc: "Amazon for AWS's documents, else the account id." })),
  VersionName: s.optional(s.string()),
  PlatformTypes: s.optional(s.list(s.enum(PLATFORM_TYPES))),
  DocumentVersion: s.optional(s.string()),
  DocumentType: s.optional(s.enum(DOCUMENT_TYPES)),
  SchemaVersion: s.optional(s.string()),
  DocumentFormat: s.optional(format),
  TargetType: s.optional(s.string()),
  Tags: s.optional(tags),
};

/** AWS's DocumentDescription, with the fields Airlock has. */
const documentDescription = s.struct({
  ...identifierFields,
  Hash: s.optional(s.string({ doc: 'SHA-256 of the content, hex.' })),
  HashType: s.optional(s.enum(['Sha256', 'Sha1'] as const)),
  Status: s.optional(s.enum(DOCUMENT_STATUSES)),
  Description: s.optional(s.string()),
  Parameters: s.optional(s.list(documentParameter)),
  LatestVersion: s.optional(s.string()),
  DefaultVersion: s.optional(s.string()),
});

export const CreateDocument = operation({
  service: 'ssm',
  name: 'CreateDocument',
  summary:
    "Publish a Session document (version 1) in the caller's account, e.g. one that runs only `systemctl status {{ unit }}`; or, named SSM-SessionManagerRunShell, the account's session preferences. Allowed on the document's ARN.",
  input: s.struct({
    ...versionFields,
    DocumentType: s.optional(s.enum(DOCUMENT_TYPES, "Session (AWS's default is Command, which Airlock does not keep).")),
    Tags: s.optional(tags),
  }),
  output: s.struct({ DocumentDescription: s.optional(documentDescription) }),
});

export const GetDocument = operation({
  service: 'ssm',
  name: 'GetDocument',
  summary: "A document's content: the default version unless DocumentVersion or VersionName says otherwise. SSM-SessionManagerRunShell gives the default preferences until the account sets its own.",
  input: s.struct({
    Name: s.required(nameOrArn),
    VersionName: s.optional(versionName),
    DocumentVersion: s.optional(documentVersion),
    DocumentFormat: s.optional(format),
  }),
  output: s.struct({
    Name: s.optional(s.string()),
    CreatedDate: s.optional(s.timestamp()),
    VersionName: s.optional(s.string()),
    DocumentVersion: s.optional(s.string()),
    Status: s.optional(s.enum(DOCUMENT_STATUSES)),
    Content: s.optional(s.string()),
    DocumentType: s.optional(s.enum(DOCUMENT_TYPES)),
    DocumentFormat: s.optional(format),
  }),
});

export const DescribeDocument = operation({
  service: 'ssm',
  name: 'DescribeDocument',
  summary: 'A document\'s description: owner, versions (latest and default), parameters, hash, tags.',
  input: s.struct({ Name: s.required(nameOrArn), DocumentVersion: s.optional(documentVersion), VersionName: s.optional(versionName) }),
  output: s.struct({ Document: s.optional(documentDescription) }),
});

export const UpdateDocument = operation({
  service: 'ssm',
  name: 'UpdateDocument',
  summary:
    "A new version of one of the account's documents (only the latest can be updated: DocumentVersion $LATEST or its number). The default version, which StartSession uses, stays as it was (UpdateDocumentDefaultVersion moves it), except for SSM-SessionManagerRunShell: its new version, the account's preferences, is in force at once.",
  input: s.struct({ ...versionFields, DocumentVersion: s.optional(documentVersion) }),
  output: s.struct({ DocumentDescription: s.optional(documentDescription) }),
});

export const UpdateDocumentDefaultVersion = operation({
  service: 'ssm',
  name: 'UpdateDocumentDefaultVersion',
  summary: 'Which version of one of the account\'s documents StartSession uses.',
  input: s.struct({ Name: s.required(newName), DocumentVersion: s.required(s.string({ pattern: /^[1-9][0-9]*$/, doc: 'A version number.' })) }),
  output: s.struct({
    Description: s.optional(s.struct({ Name: s.optional(s.string()), DefaultVersion: s.optional(s.string()), DefaultVersionName: s.optional(s.string()) })),
  }),
});

export const DOCUMENT_FILTER_KEYS = ['Name', 'Owner', 'PlatformTypes', 'DocumentType'] as const;

export const ListDocuments = operation({
  service: 'ssm',
  name: 'ListDocuments',
  summary:
    "The documents the account sees: AWS's (Owner Amazon) and its own, by name. Filters: Owner (Self, Amazon, All), Name (begins with), DocumentType, PlatformTypes, TargetType, tag:KEY; values of one filter are alternatives, all filters must match.",
  input: s.struct({
    DocumentFilterList: s.optional(
      s.list(s.struct({ key: s.required(s.enum(DOCUMENT_FILTER_KEYS)), value: s.required(s.string({ min: 1 })) }), { min: 1, doc: 'The older form of Filters.' }),
    ),
    Filters: s.optional(
      s.list(s.struct({ Key: s.optional(s.string({ min: 1, max: 128 })), Values: s.optional(s.list(s.string({ min: 1, max: 256 }))) }), { max: 6 }),
    ),
    MaxResults: s.optional(s.integer({ min: 1, max: 50, doc: 'Default 50.' })),
    NextToken: s.optional(s.string({ min: 1, max: 65_535 })),
  }),
  output: s.struct({
    DocumentIdentifiers: s.optional(s.list(s.struct(identifierFields))),
    NextToken: s.optional(s.string()),
  }),
});

export const DeleteDocument = operation({
  service: 'ssm',
  name: 'DeleteDocument',
  summary:
    "Delete one of the account's documents, or one version of it (not the default version). AWS's documents are read-only. Deleting SSM-SessionManagerRunShell puts the default preferences back. Sessions already started are not affected.",
  input: s.struct({
    Name: s.required(newName),
    DocumentVersion: s.optional(documentVersion),
    VersionName: s.optional(versionName),
    Force: s.optional(s.boolean()),
  }),
  output: s.struct({}),
});

export const DOCUMENT_OPERATIONS = [CreateDocument, GetDocument, DescribeDocument, UpdateDocument, UpdateDocumentDefaultVersion, ListDocuments, DeleteDocument] as const;
