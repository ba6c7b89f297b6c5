/**
 * Service `events`: rules that match Airlock's events (EventBridge's role) and the targets they
 * notify. Names, fields and errors as Amazon EventBridge's, on the account's one event bus
 * (`default`). A target is a webhook (Arn `https://…`, signed with HMAC-SHA256) or email
 * addresses (Arn `mailto:…`): Airlock's own encoding in AWS's Target shape, since Airlock has no
 * API destinations or SNS topics. ListRuleDeliveries, the recent deliveries of a rule, is
 * Airlock's own operation.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

/** As EventBridge names rules and targets. */
export const RULE_NAME = /^[.\-_A-Za-z0-9]+$/;
export const TARGET_ID = /^[.\-_A-Za-z0-9]+$/;
/** The one event bus: by name, or by its ARN. */
export const DEFAULT_EVENT_BUS = 'default';
export const RULE_STATES = ['ENABLED', 'DISABLED'] as const;
export type RuleState = (typeof RULE_STATES)[number];
export const MAX_EVENT_PATTERN_LENGTH = 4096;
/** AWS's defaults: rules per event bus, targets per rule. */
export const MAX_RULES = 300;
export const MAX_TARGETS_PER_RULE = 5;
export const MAX_EMAIL_ADDRESSES = 10;
/** RetryPolicy's bounds and defaults, as EventBridge's. */
export const MAX_RETRY_ATTEMPTS = 185;
export const MAX_EVENT_AGE_SECONDS = 86_400;
export const MIN_EVENT_AGE_SECONDS = 60;
export const DELIVERY_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** The header carrying a webhook's signature: `sha256=` and the hex HMAC-SHA256 of the body under the target's signing secret. */
export const SIGNATURE_HEADER = 'x-airlock-signature';

const ruleName = s.string({ min: 1, max: 64, pattern: RULE_NAME, doc: 'Letters, digits, . - and _.' });
const eventBusName = s.string({ min: 1, max: 1600, doc: 'default (or its ARN): the account has one event bus.' });
const eventPattern = s.string({
  min: 1,
  max: MAX_EVENT_PATTERN_LENGTH,
  doc: 'JSON, as EventBridge reads it: fields AND, the values listed for a field OR; exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and $or.',
});
const description = s.string({ min: 0, max: 512 });
const targetId = s.string({ min: 1, max: 64, pattern: TARGET_ID });
const limit = s.integer({ min: 1, max: 100, doc: 'At most this many in one page (default 100).' });
const nextToken = s.string({ min: 1, max: 2048, doc: 'The token a previous page returned.' });
const signingSecret = s.string({
  min: 16,
  max: 256,
  sensitive: true,
  doc: "Airlock's own: the webhook's HMAC-SHA256 key. Absent: kept when the target had one, else made and returned once in SigningSecrets.",
});
const httpValue = s.string({ min: 0, max: 512, sensitive: true });

const ruleFields = {
  Name: s.required(s.string()),
  Arn: s.required(s.string({ doc: 'arn:aws:events:REGION:ACCOUNT:rule/NAME' })),
  EventPattern: s.required(s.string()),
  State: s.required(s.enum(RULE_STATES)),
  Description: s.optional(s.string()),
  EventBusName: s.required(s.string()),
};
const rule = s.struct(ruleFields);

const targetFields = {
  Id: s.required(targetId),
  Arn: s.required(
    s.string({
      min: 1,
      max: 1600,
      // Webhook URLs often carry their own bearer token (chat services'), and mail addresses are personal.
      sensitive: true,
      doc: "Airlock's encoding: a webhook URL (https://… or http://…), or mailto:ADDRESS[,ADDRESS…] (at most 10) to mail each event through the server's mailer.",
    }),
  ),
  HttpParameters: s.optional(
    s.struct(
      {
        HeaderParameters: s.optional(s.map(s.string({ min: 1, max: 512, pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/ }), httpValue, { max: 20 })),
        QueryStringParameters: s.optional(s.map(s.string({ min: 1, max: 512 }), httpValue, { max: 20 })),
      },
      'Webhooks only: headers and query string parameters added to each request.',
    ),
  ),
  RetryPolicy: s.optional(
    s.struct({
      MaximumRetryAttempts: s.optional(s.integer({ min: 0, max: MAX_RETRY_ATTEMPTS, doc: `Retries after the first attempt (default ${MAX_RETRY_ATTEMPTS}).` })),
      MaximumEventAgeInSeconds: s.optional(
        s.integer({ min: MIN_EVENT_AGE_SECONDS, max: MAX_EVENT_AGE_SECONDS, doc: `No retry once the event is this old (default ${MAX_EVENT_AGE_SECONDS}).` }),
      ),
    }),
  ),
};
const target = s.struct(targetFields);
const targetInput = s.struct({ ...targetFields, SigningSecret: s.optional(signingSecret) });

const failedEntry = s.struct({ TargetId: s.optional(s.string()), ErrorCode: s.optional(s.string()), ErrorMessage: s.optional(s.string()) });
const failedEntries = { FailedEntryCount: s.required(s.integer()), FailedEntries: s.required(s.list(failedEntry)) };

export const PutRule = operation({
  service: 'events',
  name: 'PutRule',
  summary: 'Create a rule, or replace one of the same name (fields left out are not kept): events matching its EventPattern go to its targets while it is ENABLED.',
  input: s.struct({
    Name: s.required(ruleName),
    EventPattern: s.required(eventPattern),
    State: s.optional(s.enum(RULE_STATES, 'ENABLED (default) or DISABLED.')),
    Description: s.optional(description),
    EventBusName: s.optional(eventBusName),
  }),
  output: s.struct({ RuleArn: s.required(s.string()) }),
});

export const DescribeRule = operation({
  service: 'events',
  name: 'DescribeRule',
  summary: 'A rule: its pattern, state and description.',
  input: s.struct({ Name: s.required(ruleName), EventBusName: s.optional(eventBusName) }),
  output: s.struct({ ...ruleFields, CreatedBy: s.required(s.string({ doc: 'The account that made the rule.' })) }),
});

export const ListRules = operation({
  service: 'events',
  name: 'ListRules',
  summary: "The account's rules by name, a page at a time; NamePrefix narrows them.",
  input: s.struct({ NamePrefix: s.optional(ruleName), EventBusName: s.optional(eventBusName), NextToken: s.optional(nextToken), Limit: s.optional(limit) }),
  output: s.struct({ Rules: s.required(s.list(rule)), NextToken: s.optional(s.string()) }),
});

export const DeleteRule = operation({
  service: 'events',
  name: 'DeleteRule',
  summary: 'Delete a rule and its delivery history. Refused while it has targets (RemoveTargets first), as EventBridge does.',
  input: s.struct({ Name: s.required(ruleName), EventBusName: s.optional(eventBusName), Force: s.optional(s.boolean('Accepted for compatibility; Airlock has no managed rules.')) }),
  output: s.struct({}),
});

export const PutTargets = operation({
  service: 'events',
  name: 'PutTargets',
  summary: `Add targets to a rule, or replace those with the same Id (at most ${MAX_TARGETS_PER_RULE} a rule): webhooks (https://…) get each event as a signed JSON POST, mailto: addresses an email.`,
  input: s.struct({ Rule: s.required(ruleName), EventBusName: s.optional(eventBusName), Targets: s.required(s.list(targetInput, { min: 1, max: 10 })) }),
  output: s.struct({
    ...failedEntries,
    SigningSecrets: s.optional(
      s.list(s.struct({ Id: s.required(s.string()), SigningSecret: s.required(s.string({ sensitive: true })) }), {
        doc: "Airlock's own: the signing secrets made for webhook targets by this call. Shown once; keep them to verify the x-airlock-signature header.",
      }),
    ),
  }),
});

export const ListTargetsByRule = operation({
  service: 'events',
  name: 'ListTargetsByRule',
  summary: "A rule's targets by Id (signing secrets are never shown).",
  input: s.struct({ Rule: s.required(ruleName), EventBusName: s.optional(eventBusName), NextToken: s.optional(nextToken), Limit: s.optional(limit) }),
  output: s.struct({ Targets: s.required(s.list(target)), NextToken: s.optional(s.string()) }),
});

export const RemoveTargets = operation({
  service: 'events',
  name: 'RemoveTargets',
  summary: 'Remove targets from a rule, by Id. Their pending deliveries are not made.',
  input: s.struct({
    Rule: s.required(ruleName),
    EventBusName: s.optional(eventBusName),
    Ids: s.required(s.list(targetId, { min: 1, max: 100 })),
    Force: s.optional(s.boolean('Accepted for compatibility; Airlock has no managed rules.')),
  }),
  output: s.struct(failedEntries),
});

export const TestEventPattern = operation({
  service: 'events',
  name: 'TestEventPattern',
  summary: 'Whether an event (JSON, with id, source, detail-type, account, time, region, resources and detail) matches an event pattern.',
  readOnly: true,
  input: s.struct({ EventPattern: s.required(eventPattern), Event: s.required(s.string({ min: 1, max: 262_144, doc: 'The event, as JSON.' })) }),
  output: s.struct({ Result: s.required(s.boolean()) }),
});

const delivery = s.struct({
  DeliveryId: s.required(s.string()),
  TargetId: s.required(s.string()),
  Endpoint: s.required(s.string({ sensitive: true, doc: 'The webhook URL, or the one address this delivery mails.' })),
  EventId: s.required(s.string()),
  Source: s.required(s.string()),
  DetailType: s.required(s.string()),
  EventTime: s.required(s.timestamp()),
  Status: s.required(s.enum(DELIVERY_STATUSES, 'PENDING (queued or waiting to be retried), SUCCEEDED, or FAILED (no more retries).')),
  Attempts: s.required(s.integer()),
  LastAttemptTime: s.optional(s.timestamp()),
  NextAttemptTime: s.optional(s.timestamp('While PENDING: not before this time.')),
  LastError: s.optional(s.string()),
});

export const ListRuleDeliveries = operation({
  service: 'events',
  name: 'ListRuleDeliveries',
  summary: "Airlock's own: a rule's recent deliveries, newest first, with their attempts, the next retry and the last error. Finished ones are kept 14 days.",
  input: s.struct({
    Rule: s.required(ruleName),
    EventBusName: s.optional(eventBusName),
    TargetId: s.optional(targetId),
    Status: s.optional(s.enum(DELIVERY_STATUSES)),
    NextToken: s.optional(nextToken),
    Limit: s.optional(limit),
  }),
  output: s.struct({ Deliveries: s.required(s.list(delivery)), NextToken: s.optional(s.string()) }),
});

export const EVENTS_OPERATIONS = [PutRule, DescribeRule, ListRules, DeleteRule, PutTargets, ListTargetsByRule, RemoveTargets, TestEventPattern, ListRuleDeliveries] as const;
