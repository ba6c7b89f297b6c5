/**
 * Service `ssm`, the fleet: hybrid activations, registering a managed instance (`mi-…`) with
 * one, the managed instances themselves (ping status, inventory, tags, deregistration) and the
 * activation tier service setting. Names and fields as AWS Systems Manager's (botocore's model);
 * RegisterManagedInstance is the agent's own call, as in AWS's agent, with an Ed25519 key;
 * RegisterEC2Instance is Airlock's own (cloud join): the same, with the instance identity
 * document AWS signs instead of an activation.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

export const ACTIVATION_ID = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/;
/** `mi-` + 17 hex for activations; `i-` + 8 or 17 for cloud instances. */
export const INSTANCE_ID = /^(?:mi-[0-9a-f]{17}|i-[0-9a-f]{8}|i-[0-9a-f]{17})$/;

export const activationId = s.string({ min: 36, max: 36, pattern: ACTIVATION_ID, doc: 'The ActivationId CreateActivation returned (a UUID).' });
export const instanceId = s.string({ min: 10, max: 124, pattern: INSTANCE_ID, doc: 'mi-0123456789abcdef0 (or i-… for cloud instances).' });
const nextToken = s.string({ min: 1, max: 65_535, doc: 'The token a previous page returned.' });

/** Letters, digits, spaces and `_ . : / = + - @`, as AWS allows in tags. */
export const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const tag = s.struct({
  Key: s.required(s.string({ min: 1, max: 128, pattern: TAG_TEXT, doc: 'Keys starting with aws: are reserved.' })),
  Value: s.required(s.string({ min: 0, max: 256, pattern: TAG_TEXT })),
});
export const MAX_TAGS = 50;
const tags = s.list(tag, { max: MAX_TAGS });

/* ---------------------------------------------------------------- activations */

const activation = s.struct({
  ActivationId: s.required(s.string()),
  Description: s.optional(s.string()),
  DefaultInstanceName: s.optional(s.string()),
  IamRole: s.required(s.string()),
  RegistrationLimit: s.required(s.integer()),
  RegistrationsCount: s.required(s.integer()),
  ExpirationDate: s.required(s.timestamp()),
  Expired: s.required(s.boolean()),
  CreatedDate: s.required(s.timestamp()),
  Tags: s.optional(s.list(tag)),
});

export const MAX_ACTIVATION_DAYS = 30;

export const CreateActivation = operation({
  service: 'ssm',
  name: 'CreateActivation',
  summary: 'Make a hybrid activation: a code that registers up to RegistrationLimit servers as managed instances (mi-…) until ExpirationDate. The code is shown once.',
  input: s.struct({
    IamRole: s.required(s.string({ min: 1, max: 64, doc: "The role the instances' sessions are recorded under (AWS: a role trusting ssm.amazonaws.com)." })),
    Description: s.optional(s.string({ min: 0, max: 256 })),
    DefaultInstanceName: s.optional(s.string({ min: 0, max: 256, pattern: /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u, doc: 'The Name of instances registered with it.' })),
    RegistrationLimit: s.optional(s.integer({ min: 1, max: 1000, doc: 'How many instances may register with it; default 1.' })),
    ExpirationDate: s.optional(s.timestamp(`Epoch seconds; default 24 hours from now, at most ${MAX_ACTIVATION_DAYS} days.`)),
    Tags: s.optional(s.list(tag, { max: MAX_TAGS, doc: 'Copied to every instance registered with it.' })),
  }),
  output: s.struct({
    ActivationId: s.required(s.string()),
    ActivationCode: s.required(s.string({ min: 20, max: 250, sensitive: true, doc: 'A password: give it to the servers to register; it is stored only as a hash.' })),
  }),
});

export const ACTIVATION_FILTER_KEYS = ['ActivationIds', 'DefaultInstanceName', 'IamRole'] as const;

export const DescribeActivations = operation({
  service: 'ssm',
  name: 'DescribeActivations',
  summary: 'The activations (not deleted ones), with how many instances registered with each and whether it has expired.',
  input: s.struct({
    Filters: s.optional(
      s.list(
        s.struct({
          FilterKey: s.required(s.enum(ACTIVATION_FILTER_KEYS)),
          FilterValues: s.required(s.list(s.string({ min: 1, max: 256 }), { min: 1, max: 100 })),
        }),
        { max: 10 },
      ),
    ),
    MaxResults: s.optional(s.integer({ min: 1, max: 50 })),
    NextToken: s.optional(nextToken),
  }),
  output: s.struct({ ActivationList: s.required(s.list(activation)), NextToken: s.optional(s.string()) }),
});

export const DeleteActivation = operation({
  service: 'ssm',
  name: 'DeleteActivation',
  summary: 'Delete an activation: its code registers nothing more. Instances registered with it stay.',
  input: s.struct({ ActivationId: s.required(activationId) }),
  output: s.struct({}),
});

export const PUBLIC_KEY_TYPES = ['Ed25519'] as const;

export const RegisterManagedInstance = operation({
  service: 'ssm',
  name: 'RegisterManagedInstance',
  summary: "The agent's call: register this server with an activation's id and code and its public key; answers with the instance id (mi-…).",
  caller: 'public',
  input: s.struct({
    ActivationId: s.required(activationId),
    ActivationCode: s.required(s.string({ min: 20, max: 250, sensitive: true })),
    PublicKey: s.required(s.string({ min: 1, max: 4096, pattern: /^[A-Za-z0-9+/]+={0,2}$/, doc: "Base64 of the agent's Ed25519 public key (SPKI DER)." })),
    PublicKeyType: s.required(s.enum(PUBLIC_KEY_TYPES)),
    Fingerprint: s.required(s.string({ min: 1, max: 256, doc: "The host's name or machine id." })),
  }),
  output: s.struct({ InstanceId: s.required(s.string()) }),
});

/** How the identity document is signed: the metadata service's /rsa2048 (or /pkcs7), or its /signature. */
export const SIGNATURE_FORMATS = ['PKCS7', 'RSA-SHA256'] as const;

export const RegisterEC2Instance = operation({
  service: 'ssm',
  name: 'RegisterEC2Instance',
  summary:
    "The agent's call on an EC2 instance (cloud join): register with the instance identity document and AWS's signature over it, from the instance metadata service, and the agent's public key; answers with the instance's own id (i-…). Airlock's own operation: AWS's agent uses the instance's role instead.",
  caller: 'public',
  input: s.struct({
    IdentityDocument: s.required(s.string({ min: 2, max: 8192, doc: 'The instance identity document (JSON), exactly as /latest/dynamic/instance-identity/document served it.' })),
    IdentityDocumentSignature: s.required(
      s.string({
        min: 1,
        max: 16_384,
        pattern: /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/,
        // With the document, it registers the instance (once): kept out of logs and the audit trail.
        sensitive: true,
        doc: 'Base64: the PKCS7 SignedData from /latest/dynamic/instance-identity/rsa2048 (or /pkcs7), or, with SignatureFormat RSA-SHA256, the signature from /latest/dynamic/instance-identity/signature.',
      }),
    ),
    SignatureFormat: s.optional(s.enum(SIGNATURE_FORMATS, 'PKCS7 (default) or RSA-SHA256.')),
    PublicKey: s.required(s.string({ min: 1, max: 4096, pattern: /^[A-Za-z0-9+/]+={0,2}$/, doc: "Base64 of the agent's Ed25519 public key (SPKI DER)." })),
    PublicKeyType: s.required(s.enum(PUBLIC_KEY_TYPES)),
    Fingerprint: s.required(s.string({ min: 1, max: 256, doc: "The host's name or machine id." })),
    Tags: s.optional(
      s.list(tag, { max: MAX_TAGS, doc: "The instance's tags as the metadata service shows them (when tags in instance metadata are on). Not signed by AWS: the instance's own word." }),
    ),
  }),
  output: s.struct({ InstanceId: s.required(s.string()) }),
});

/* ---------------------------------------------------------------- managed instances */

export const PING_STATUSES = ['Online', 'ConnectionLost', 'Inactive'] as const;
export type PingStatus = (typeof PING_STATUSES)[number];
export const PLATFORM_TYPES = ['Windows', 'Linux', 'MacOS'] as const;
export const RESOURCE_TYPES = ['ManagedInstance', 'EC2Instance'] as const;

const instanceInformation = s.struct({
  InstanceId: s.required(s.string()),
  PingStatus: s.required(s.enum(PING_STATUSES)),
  LastPingDateTime: s.optional(s.timestamp()),
  AgentVersion: s.optional(s.string()),
  IsLatestVersion: s.optional(s.boolean()),
  PlatformType: s.optional(s.enum(PLATFORM_TYPES)),
  PlatformName: s.optional(s.string()),
  PlatformVersion: s.optional(s.string()),
  ActivationId: s.optional(s.string()),
  IamRole: s.optional(s.string()),
  RegistrationDate: s.optional(s.timestamp()),
  ResourceType: s.required(s.enum(RESOURCE_TYPES)),
  Name: s.optional(s.string()),
  IPAddress: s.optional(s.string()),
  ComputerName: s.optional(s.string()),
});

/** The keys of the legacy InstanceInformationFilterList (no tags there). */
export const INSTANCE_INFORMATION_FILTER_KEYS = ['InstanceIds', 'AgentVersion', 'PingStatus', 'PlatformTypes', 'ActivationIds', 'IamRole', 'ResourceType'] as const;

const filterValue = s.string({ min: 1, max: 256 });

export const DescribeInstanceInformation = operation({
  service: 'ssm',
  name: 'DescribeInstanceInformation',
  summary: 'The managed instances: ping status, agent and platform, activation, name and address. Filters: InstanceIds, AgentVersion, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType, tag-key, tag:KEY.',
  input: s.struct({
    InstanceInformationFilterList: s.optional(
      s.list(s.struct({ key: s.required(s.enum(INSTANCE_INFORMATION_FILTER_KEYS)), valueSet: s.required(s.list(filterValue, { min: 1, max: 100 })) }), {
        max: 20,
        doc: 'The older form of Filters, without tag filters; give one or the other.',
      }),
    ),
    Filters: s.optional(
      s.list(s.struct({ Key: s.required(s.string({ min: 1, max: 163 })), Values: s.required(s.list(filterValue, { min: 1, max: 100 })) }), {
        max: 20,
        doc: 'Values of one filter are alternatives; all filters must match. Key tag:Name matches the tag Name, tag-key any tag with one of the keys.',
      }),
    ),
    MaxResults: s.optional(s.integer({ min: 5, max: 50, doc: 'Default 10.' })),
    NextToken: s.optional(nextToken),
  }),
  output: s.struct({ InstanceInformationList: s.required(s.list(instanceInformation)), NextToken: s.optional(s.string()) }),
});

export const GetConnectionStatus = operation({
  service: 'ssm',
  name: 'GetConnectionStatus',
  summary: 'Whether the instance can take a session now: connected (its agent is Online) or notconnected.',
  input: s.struct({ Target: s.required(s.string({ min: 1, max: 400 })) }),
  output: s.struct({ Target: s.required(s.string()), Status: s.required(s.enum(['connected', 'notconnected'] as const)) }),
});

export const DeregisterManagedInstance = operation({
  service: 'ssm',
  name: 'DeregisterManagedInstance',
  summary: "Deregister an instance: its agent is cut off at once, told to stop, and its key refused for good. It stays listed as Inactive. Airlock also takes a cloud-joined instance (i-…): it can never register again.",
  input: s.struct({ InstanceId: s.required(s.string({ min: 10, max: 124, pattern: INSTANCE_ID, doc: 'mi-… (AWS: managed instances only), or, in Airlock, a cloud-joined i-….' })) }),
  output: s.struct({}),
});

/* ---------------------------------------------------------------- tags */

export const TAGGABLE_RESOURCE_TYPES = ['Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association'] as const;
const resource = {
  ResourceType: s.required(s.enum(TAGGABLE_RESOURCE_TYPES, 'ManagedInstance (the others are not Airlock resources yet).')),
  ResourceId: s.required(s.string({ min: 1, max: 1011, doc: 'For ManagedInstance: mi-….' })),
};

export const AddTagsToResource = operation({
  service: 'ssm',
  name: 'AddTagsToResource',
  summary: `Add or overwrite tags on a resource (at most ${MAX_TAGS} per resource). Policies see them as ssm:resourceTag/KEY.`,
  input: s.struct({ ...resource, Tags: s.required(s.list(tag, { min: 1, max: MAX_TAGS })) }),
  output: s.struct({}),
});

export const RemoveTagsFromResource = operation({
  service: 'ssm',
  name: 'RemoveTagsFromResource',
  summary: 'Remove tags, by key, from a resource.',
  input: s.struct({ ...resource, TagKeys: s.required(s.list(s.string({ min: 1, max: 128 }), { min: 1, max: MAX_TAGS })) }),
  output: s.struct({}),
});

export const ListTagsForResource = operation({
  service: 'ssm',
  name: 'ListTagsForResource',
  summary: "A resource's tags.",
  input: s.struct(resource),
  output: s.struct({ TagList: s.required(tags) }),
});

/* ---------------------------------------------------------------- service settings */

export const ACTIVATION_TIER_SETTING = '/ssm/managed-instance/activation-tier';
export const ACTIVATION_TIERS = ['standard', 'advanced'] as const;
export const SETTING_STATUSES = ['Default', 'Customized', 'PendingUpdate'] as const;

const settingId = s.string({ min: 1, max: 1000, doc: `${ACTIVATION_TIER_SETTING}, or its ARN arn:aws:ssm:REGION:ACCOUNT:servicesetting${ACTIVATION_TIER_SETTING}.` });
const serviceSetting = s.struct({
  SettingId: s.required(s.string()),
  SettingValue: s.required(s.string()),
  LastModifiedDate: s.optional(s.timestamp()),
  LastModifiedUser: s.required(s.string()),
  ARN: s.required(s.string()),
  Status: s.required(s.enum(SETTING_STATUSES)),
});

export const GetServiceSetting = operation({
  service: 'ssm',
  name: 'GetServiceSetting',
  summary: `A service setting: ${ACTIVATION_TIER_SETTING} is standard (at most 1,000 managed instances) or advanced.`,
  input: s.struct({ SettingId: s.required(settingId) }),
  output: s.struct({ ServiceSetting: s.required(serviceSetting) }),
});

export const UpdateServiceSetting = operation({
  service: 'ssm',
  name: 'UpdateServiceSetting',
  summary: `Change a service setting (${ACTIVATION_TIER_SETTING}: standard | advanced).`,
  input: s.struct({ SettingId: s.required(settingId), SettingValue: s.required(s.string({ min: 1, max: 4096 })) }),
  output: s.struct({}),
});

export const ResetServiceSetting = operation({
  service: 'ssm',
  name: 'ResetServiceSetting',
  summary: 'Put a service setting back to its default.',
  input: s.struct({ SettingId: s.required(settingId) }),
  output: s.struct({ ServiceSetting: s.required(serviceSetting) }),
});

export const FLEET_OPERATIONS = [
  CreateActivation,
  DescribeActivations,
  DeleteActivation,
  RegisterManagedInstance,
  RegisterEC2Instance,
  DescribeInstanceInformation,
  GetConnectionStatus,
  DeregisterManagedInstance,
  AddTagsToResource,
  RemoveTagsFromResource,
  ListTagsForResource,
  GetServiceSetting,
  UpdateServiceSetting,
  ResetServiceSetting,
] as const;
