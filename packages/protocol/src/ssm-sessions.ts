/**
 * Service `ssm`, Session Manager: starting, resuming, ending and listing sessions. Names, fields
 * and errors as AWS Systems Manager's. The bytes of a session travel on the data channel
 * (data-channel.ts): StartSession answers with a single-use token and the URL to present it at.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

export const SESSION_STATUSES = ['Connected', 'Connecting', 'Disconnected', 'Terminated', 'Terminating', 'Failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** `{user name}-{17 hex}`, as AWS names sessions after their caller. */
export const SESSION_ID = /^[A-Za-z0-9_.@+=,-]{1,78}-[0-9a-f]{17}$/;
export const DOCUMENT_NAME = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
/** The account's preferences document, used when StartSession names none. */
export const DEFAULT_SESSION_DOCUMENT = 'SSM-SessionManagerRunShell';

const sessionId = s.string({ min: 1, max: 96, pattern: SESSION_ID, doc: 'The SessionId StartSession returned: {user}-{17 hex}.' });

const startedSession = s.struct({
  SessionId: s.required(s.string()),
  TokenValue: s.required(s.string({ sensitive: true, doc: 'Single use, valid for a minute: present it as the first frame on StreamUrl.' })),
  StreamUrl: s.required(s.string()),
});

export const StartSession = operation({
  service: 'ssm',
  name: 'StartSession',
  summary:
    "Open a session on an instance: a shell (no DocumentName: the account's SSM-SessionManagerRunShell preferences), a command, or a port forward, as the document says. Allowed on the target's ARN (with its tags) and on the document's.",
  input: s.struct({
    Target: s.required(s.string({ min: 1, max: 400, doc: 'The instance: i-… or mi-….' })),
    DocumentName: s.optional(s.string({ min: 3, max: 128, pattern: DOCUMENT_NAME, doc: 'A Session document by name or ARN, e.g. AWS-StartPortForwardingSession.' })),
    Reason: s.optional(s.string({ min: 1, max: 256, pattern: /^.{1,256}$/, doc: 'Why: kept with the session and in the audit trail.' })),
    Parameters: s.optional(s.map(s.string({ min: 1, max: 255 }), s.list(s.string({ min: 1, max: 65_535 }), { max: 20 }), { max: 50, doc: "The document's parameters: portNumber=[\"80\"], localPortNumber=[\"8080\"]." })),
  }),
  output: startedSession,
});

export const ResumeSession = operation({
  service: 'ssm',
  name: 'ResumeSession',
  summary: 'Reconnect to a session that is still open (after a dropped network): a new token for the same session; the stream continues where it stopped.',
  input: s.struct({ SessionId: s.required(sessionId) }),
  output: startedSession,
});

export const TerminateSession = operation({
  service: 'ssm',
  name: 'TerminateSession',
  summary: "End a session for good: its program is stopped (the whole process group) and its channels closed. Allowed on the session's ARN.",
  input: s.struct({ SessionId: s.required(sessionId) }),
  output: s.struct({ SessionId: s.optional(s.string()) }),
});

export const SESSION_FILTER_KEYS = ['InvokedAfter', 'InvokedBefore', 'Target', 'Owner', 'Status', 'SessionId', 'AccessType'] as const;

const session = s.struct({
  SessionId: s.required(s.string()),
  Target: s.required(s.string()),
  Status: s.required(s.enum(SESSION_STATUSES)),
  StartDate: s.required(s.timestamp()),
  EndDate: s.optional(s.timestamp()),
  DocumentName: s.optional(s.string()),
  Owner: s.required(s.string({ doc: "The caller's ARN." })),
  Reason: s.optional(s.string()),
  Details: s.optional(s.string({ doc: 'Why it ended, when it did.' })),
  MaxSessionDuration: s.optional(s.string()),
  AccessType: s.required(s.enum(['Standard', 'JustInTime'] as const)),
});

export const DescribeSessions = operation({
  service: 'ssm',
  name: 'DescribeSessions',
  summary: 'Sessions: Active (connecting, connected or disconnected) or History (ended, last 30 days). Filters: InvokedAfter, InvokedBefore (ISO 8601), Target, Owner, Status, SessionId, AccessType.',
  input: s.struct({
    State: s.required(s.enum(['Active', 'History'] as const)),
    MaxResults: s.optional(s.integer({ min: 1, max: 200 })),
    NextToken: s.optional(s.string({ min: 1, max: 65_535 })),
    Filters: s.optional(s.list(s.struct({ key: s.required(s.enum(SESSION_FILTER_KEYS)), value: s.required(s.string({ min: 1, max: 400 })) }), { min: 1, max: 6 })),
  }),
  output: s.struct({ Sessions: s.required(s.list(session)), NextToken: s.optional(s.string()) }),
});

export const RECORDING_FORMATS = ['asciicast', 'transcript'] as const;

export const GetSessionRecording = operation({
  service: 'ssm',
  name: 'GetSessionRecording',
  summary:
    "Airlock's: a session's recording from its tamper-evident record, as an asciicast v2 recording (for players) or a plain transcript. Allowed on the session's ARN; one's own sessions need no policy. The node that ran the session answers (records stay on their node).",
  readOnly: true,
  input: s.struct({
    SessionId: s.required(sessionId),
    Format: s.optional(s.enum(RECORDING_FORMATS, 'Default asciicast.')),
  }),
  output: s.struct({
    SessionId: s.required(s.string()),
    Format: s.required(s.enum(RECORDING_FORMATS)),
    Content: s.required(s.string({ doc: 'asciicast v2: a header line, then one JSON event per line.' })),
    LogGroupName: s.optional(s.string({ doc: "The log group the session's events went to, per its preferences; its stream is named after the session." })),
  }),
});

export const EVAL_DECISIONS = ['allowed', 'explicitDeny', 'implicitDeny'] as const;

export const SimulateStartSession = operation({
  service: 'ssm',
  name: 'SimulateStartSession',
  summary:
    "Airlock's: whether the caller's own policies allow ssm:StartSession on each target (with its tags), as iam:SimulatePrincipalPolicy would decide it, and what stands in the way when they do not. Any role session may ask about itself; nothing is started.",
  caller: 'any',
  readOnly: true,
  input: s.struct({
    Targets: s.required(s.list(s.string({ min: 1, max: 400 }), { min: 1, max: 50, doc: 'Instance ids: i-… or mi-….' })),
    DocumentName: s.optional(s.string({ min: 3, max: 128, pattern: DOCUMENT_NAME })),
  }),
  output: s.struct({
    EvaluationResults: s.required(
      s.list(
        s.struct({
          EvalResourceName: s.required(s.string({ doc: 'The target as given.' })),
          EvalDecision: s.required(s.enum(EVAL_DECISIONS)),
          MatchedStatements: s.required(s.list(s.struct({ SourcePolicyId: s.required(s.string()), Sid: s.optional(s.string()) }), { doc: 'The statements that decided an allow or explicit deny.' })),
          Reason: s.optional(s.string({ doc: 'An implicit deny: which statements came close and what they want (a resource pattern, a tag value).' })),
        }),
      ),
    ),
  }),
});

export const SESSION_OPERATIONS = [StartSession, ResumeSession, TerminateSession, DescribeSessions, GetSessionRecording, SimulateStartSession] as const;
