/**
 * Service `ec2`: the EC2 view of the cloud-joined instances (`i-…`): DescribeInstances, CreateTags
 * and DeleteTags. Names, fields and errors as Amazon EC2's (botocore's model), over Airlock's JSON
 * protocol (timestamps in epoch seconds). An instance shows only what Airlock knows of it: no AMI,
 * instance type or Availability Zone, and a State only while its agent is Online (docs/fleet.md).
 * The tags are the instance's one set, the same that Systems Manager's filters and policies see.
 */
import { operation } from './operation.js';
import { s } from './schema.js';
import { MAX_TAGS, TAG_TEXT } from './ssm-fleet.js';

/** An EC2 instance id: `i-` + 8 or 17 hex digits. */
export const EC2_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** AWS's instance states and their codes (the low byte of InstanceState.Code). */
export const INSTANCE_STATES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 } as const;
export type InstanceStateName = keyof typeof INSTANCE_STATES;
const STATE_NAMES = Object.keys(INSTANCE_STATES) as InstanceStateName[];

/** The filters DescribeInstances takes (EC2 has many more; Airlock knows the data of these). */
export const DESCRIBE_INSTANCES_FILTERS = [
  'instance-id',
  'instance-state-name',
  'instance-state-code',
  'private-ip-address',
  'owner-id',
  'platform-details',
  'launch-time',
  'tag:KEY',
  'tag-key',
  'tag-value',
] as const;

const ec2Tag = s.struct({ Key: s.required(s.string()), Value: s.required(s.string()) });

const instance = s.struct({
  InstanceId: s.required(s.string()),
  State: s.optional(
    s.struct(
      { Code: s.required(s.integer()), Name: s.required(s.enum(STATE_NAMES)) },
      'running (16) while its agent is Online; absent otherwise: Airlock cannot tell a stopped instance from one it cannot reach.',
    ),
  ),
  PrivateIpAddress: s.optional(s.string()),
  LaunchTime: s.optional(s.timestamp('When the instance last launched (pendingTime in the identity document it registered with).')),
  PlatformDetails: s.optional(s.string()),
  Tags: s.optional(s.list(ec2Tag)),
});

const reservation = s.struct({
  ReservationId: s.required(s.string({ doc: "Airlock's: one reservation per instance, its id derived from the instance id (EC2's launch requests are not known)." })),
  OwnerId: s.required(s.string()),
  Instances: s.required(s.list(instance)),
});

export const DescribeInstances = operation({
  service: 'ec2',
  name: 'DescribeInstances',
  summary:
    'The cloud-joined instances (i-…) of this account, in reservations as EC2 lists them: id, state (running while the agent is Online), private address, launch time, platform, tags. Filters: instance-id, instance-state-name, instance-state-code, private-ip-address, owner-id, platform-details, launch-time, tag:KEY, tag-key, tag-value (values take * and ?).',
  input: s.struct({
    InstanceIds: s.optional(s.list(s.string({ min: 1, max: 64 }), { max: 1000, doc: 'Each must exist (InvalidInstanceID.NotFound); not with MaxResults.' })),
    Filters: s.optional(
      s.list(
        s.struct({
          Name: s.required(s.string({ min: 1, max: 255 })),
          Values: s.required(s.list(s.string({ min: 0, max: 1024 }), { min: 1, max: 200 })),
        }),
        { max: 50, doc: 'Values of one filter are alternatives, with * and ? as wildcards; all filters must match.' },
      ),
    ),
    MaxResults: s.optional(s.integer({ min: 5, max: 1000, doc: 'Default 1000.' })),
    NextToken: s.optional(s.string({ min: 1, max: 65_535 })),
  }),
  output: s.struct({ Reservations: s.required(s.list(reservation)), NextToken: s.optional(s.string()) }),
});

const tagToSet = s.struct({
  Key: s.required(s.string({ min: 1, max: 128, pattern: TAG_TEXT, doc: 'Keys starting with aws: are reserved.' })),
  Value: s.optional(s.string({ min: 0, max: 256, pattern: TAG_TEXT, doc: 'Default: the empty string.' })),
});
const resources = s.list(s.string({ min: 1, max: 64 }), { min: 1, max: 1000, doc: 'Instance ids (i-…): the resources Airlock tags through EC2.' });

export const CreateTags = operation({
  service: 'ec2',
  name: 'CreateTags',
  summary: `Add or overwrite tags on instances (i-…), all or none, at most ${MAX_TAGS} per instance. Authorized on each instance's ARN, with its tags as they are.`,
  input: s.struct({ Resources: s.required(resources), Tags: s.required(s.list(tagToSet, { min: 1, max: MAX_TAGS })) }),
  output: s.struct({}),
});

export const DeleteTags = operation({
  service: 'ec2',
  name: 'DeleteTags',
  summary:
    'Remove tags from instances (i-…): a tag given with a Value only if it has that value (an empty Value: only if empty), given without one whatever its value; no Tags at all: every tag.',
  input: s.struct({
    Resources: s.required(resources),
    Tags: s.optional(
      s.list(
        s.struct({
          Key: s.required(s.string({ min: 1, max: 128 })),
          Value: s.optional(s.string({ min: 0, max: 256, doc: 'Delete the tag only if it has this value.' })),
        }),
        { min: 1, max: MAX_TAGS },
      ),
    ),
  }),
  output: s.struct({}),
});

export const EC2_OPERATIONS = [DescribeInstances, CreateTags, DeleteTags] as const;
