/**
 * Service `ssm`: what is known of each managed node. DescribeInstanceProperties (the properties
 * of managed and cloud instances, with filters that take operators) and GetInventory (the
 * inventory the agents report, as AWS's inventory types). Names and fields as AWS Systems
 * Manager's (botocore's model); only what Airlock knows is filled in (docs/fleet.md).
 */
import { operation } from './operation.js';
import { s } from './schema.js';
import { PING_STATUSES, PLATFORM_TYPES } from './ssm-fleet.js';

const nextToken = s.string({ min: 1, max: 65_535, doc: 'The token a previous page returned.' });

/* ---------------------------------------------------------------- instance properties */

/** The keys of InstancePropertyFilterList, as AWS has them (DocumentName and AssociationStatus concern associations, which Airlock has not). */
export const INSTANCE_PROPERTY_FILTER_KEYS = ['InstanceIds', 'AgentVersion', 'PingStatus', 'PlatformTypes', 'DocumentName', 'ActivationIds', 'IamRole', 'ResourceType', 'AssociationStatus'] as const;
export const PROPERTY_OPERATORS = ['Equal', 'NotEqual', 'BeginWith', 'LessThan', 'GreaterThan'] as const;
export type PropertyOperator = (typeof PROPERTY_OPERATORS)[number];
/** The keys FiltersWithOperator takes in Airlock: what it stores of an instance, and its tags. */
export const PROPERTY_FILTER_KEYS = [
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'PlatformName',
  'PlatformVersion',
  'ActivationIds',
  'IamRole',
  'ResourceType',
  'ComputerName',
  'IPAddress',
  'Name',
  'tag-key',
  'tag:KEY',
] as const;
export const SOURCE_TYPES = ['AWS::EC2::Instance', 'AWS::IoT::Thing', 'AWS::SSM::ManagedInstance'] as const;

const instanceProperty = s.struct({
  Name: s.optional(s.string({ doc: "A managed instance's Name; a cloud instance's Name tag." })),
  InstanceId: s.required(s.string()),
  InstanceState: s.optional(s.string({ doc: 'A cloud instance: running while its agent is Online; absent otherwise (Airlock cannot see the power state).' })),
  IPAddress: s.optional(s.string()),
  LaunchTime: s.optional(s.timestamp('A cloud instance: its last launch (pendingTime).')),
  PingStatus: s.required(s.enum(PING_STATUSES)),
  LastPingDateTime: s.optional(s.timestamp()),
  AgentVersion: s.optional(s.string()),
  PlatformType: s.optional(s.enum(PLATFORM_TYPES)),
  PlatformName: s.optional(s.string()),
  PlatformVersion: s.optional(s.string()),
  ActivationId: s.optional(s.string()),
  IamRole: s.optional(s.string()),
  RegistrationDate: s.optional(s.timestamp()),
  ResourceType: s.required(s.string()),
  ComputerName: s.optional(s.string()),
  SourceId: s.required(s.string()),
  SourceType: s.required(s.enum(SOURCE_TYPES)),
});

const propertyValues = s.list(s.string({ min: 1, max: 256 }), { min: 1, max: 40 });

export const DescribeInstanceProperties = operation({
  service: 'ssm',
  name: 'DescribeInstanceProperties',
  summary:
    'The properties of the managed nodes (mi-… and cloud-joined i-…): ping status, agent, platform, registration, address, name, launch time. FiltersWithOperator: {Key, Values, Operator: Equal | NotEqual | BeginWith | LessThan | GreaterThan} on InstanceIds, AgentVersion, PingStatus, PlatformTypes, PlatformName, PlatformVersion, ActivationIds, IamRole, ResourceType, ComputerName, IPAddress, Name, tag-key, tag:KEY.',
  input: s.struct({
    InstancePropertyFilterList: s.optional(
      s.list(s.struct({ key: s.required(s.enum(INSTANCE_PROPERTY_FILTER_KEYS)), valueSet: s.required(propertyValues) }), {
        max: 40,
        doc: 'Filters that test equality; values of one are alternatives.',
      }),
    ),
    FiltersWithOperator: s.optional(
      s.list(
        s.struct({
          Key: s.required(s.string({ min: 1, max: 200 })),
          Values: s.required(propertyValues),
          Operator: s.optional(s.enum(PROPERTY_OPERATORS, 'Default Equal. LessThan and GreaterThan take one value and compare numbers within the text as numbers (0.9.0 < 0.10.0).')),
        }),
        { max: 40, doc: 'All filters (of both lists) must match.' },
      ),
    ),
    MaxResults: s.optional(s.integer({ min: 5, max: 1000, doc: 'Default 50.' })),
    NextToken: s.optional(nextToken),
  }),
  output: s.struct({ InstanceProperties: s.required(s.list(instanceProperty)), NextToken: s.optional(s.string()) }),
});

/* ---------------------------------------------------------------- inventory */

export const INVENTORY_FILTER_TYPES = ['Equal', 'NotEqual', 'BeginWith', 'LessThan', 'GreaterThan', 'Exists'] as const;
/** The inventory types Airlock serves: AWS's own, and one of its own (AWS's Custom: namespace) for what AWS's types have no attribute for. */
export const INVENTORY_TYPES = ['AWS:InstanceInformation', 'AWS:InstanceDetailedInformation', 'Custom:AirlockHost'] as const;
/** An inventory type name, as AWS spells them. */
export const INVENTORY_TYPE_NAME = /^(AWS|Custom):[A-Za-z0-9_]+$/;

const inventoryItem = s.struct({
  TypeName: s.required(s.string()),
  SchemaVersion: s.required(s.string()),
  CaptureTime: s.required(s.string({ doc: 'yyyy-MM-ddTHH:mm:ssZ: the last ping of the agent that reported it.' })),
  Content: s.required(s.list(s.map(s.string(), s.string()))),
});

export const GetInventory = operation({
  service: 'ssm',
  name: 'GetInventory',
  summary: `The inventory the agents report, per instance, as ${INVENTORY_TYPES.join(', ')}. Filters: {Key: TYPE.ATTRIBUTE (AWS:InstanceInformation.PlatformName), Values, Type: Equal | NotEqual | BeginWith | LessThan | GreaterThan}.`,
  input: s.struct({
    Filters: s.optional(
      s.list(
        s.struct({
          Key: s.required(s.string({ min: 1, max: 200, doc: 'TYPE.ATTRIBUTE, e.g. AWS:InstanceInformation.InstanceId.' })),
          Values: s.required(s.list(s.string({ min: 1, max: 256 }), { min: 1, max: 40 })),
          Type: s.optional(s.enum(INVENTORY_FILTER_TYPES, 'Default Equal. Exists works only with Aggregators, which Airlock does not take.')),
        }),
        { min: 1, max: 5 },
      ),
    ),
    ResultAttributes: s.optional(
      s.list(s.struct({ TypeName: s.required(s.string({ min: 1, max: 100 })) }), { min: 1, max: 1, doc: 'Only this type, and only the instances that have it.' }),
    ),
    MaxResults: s.optional(s.integer({ min: 1, max: 50, doc: 'Default 50.' })),
    NextToken: s.optional(nextToken),
  }),
  output: s.struct({
    Entities: s.required(s.list(s.struct({ Id: s.required(s.string()), Data: s.required(s.map(s.string(), inventoryItem)) }))),
    NextToken: s.optional(s.string()),
  }),
});

export const INVENTORY_OPERATIONS = [DescribeInstanceProperties, GetInventory] as const;
