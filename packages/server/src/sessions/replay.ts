/**
 * ssm:GetSessionRecording: a session's recording for the console's player, made from its
 * hash-chained record as the bucket's `.cast` and `.log` are (transcripts.ts). Records stay on
 * the node that ran the session; another node answers that it has none. A session that moved
 * between nodes is read from the segments handed over (record-segments.ts), from any node.
 */
import { ApiError, sessions as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { readRecord, recordPath } from './record.js';
import { factsOf, planOf } from './recording.js';
import { segmentedRecord } from './record-segments.js';
import { findSession, sessionResource, startedByCaller } from './session-access.js';
import { asciicast, transcript } from './transcripts.js';

async function getSessionRecording(input: InputOf<typeof api.GetSessionRecording>, { services, principal }: CallContext) {
  const row = await findSession(services, principal, input.SessionId);
  // A session running here: what it has recorded so far is on disk first (its last keystrokes
  // may still wait for company in the record's group commit).
  await services.sessions
    .get(row.session_id)
    ?.record.settled()
    .catch(() => undefined);
  const record = await readRecord(recordPath(services.config.dataDir, row.session_id));
  // Moved between nodes: the segments handed over, with this node's own if it is still here.
  const entries = row.carriers === null ? record.entries : (await segmentedRecord(services.db, row, { node: services.agents.nodeId, read: record })).entries;
  if (entries.length === 0 && row.node_id !== services.agents.nodeId) {
    throw new ApiError('DoesNotExistException', `Session ${row.session_id} was recorded on node ${row.node_id}; ask that node, or read the copy in the session's bucket or log group.`);
  }
  const format = input.Format ?? 'asciicast';
  const content = format === 'asciicast' ? asciicast(factsOf(row), entries) : transcript(entries);
  const logGroupName = planOf(row)?.logGroupName;
  return { SessionId: row.session_id, Format: format, Content: content, ...(logGroupName === undefined ? {} : { LogGroupName: logGroupName }) };
}

// One's own session's recording is part of having run it, as resuming it is; anyone else's needs the policy.
export const REPLAY_OPERATIONS: readonly BoundOperation[] = [bind(api.GetSessionRecording, getSessionRecording, { resources: sessionResource, callersOwn: startedByCaller })];
