/**
 * Several nodes: what a node does with the relay's messages (fleet/relay.ts). An `open` comes
 * from the node carrying a session whose agent's control channel is held here: the agent is told
 * to dial that node directly, so session bytes never cross nodes. An `end` comes from the node
 * that served TerminateSession for a session carried here.
 */
import type { control } from '@airlock/protocol';
import type { AgentHub } from '../fleet/agents.js';
import type { NodeRelay, RelayMessage } from '../fleet/relay.js';
import type { Db } from '../storage/db.js';
import type { SessionBroker } from './broker.js';

export interface RoutingDeps {
  readonly db: Db;
  readonly agents: AgentHub;
  readonly sessions: SessionBroker;
  readonly log: { error(message: string, error?: unknown): void };
}

export function serveRelay(relay: NodeRelay, deps: RoutingDeps): void {
  relay.onMessage = (message) => {
    handle(message, deps).catch((error: unknown) => {
      deps.log.error(`sessions: a relay message (${message.kind} ${message.sessionId}) failed`, error);
    });
  };
}

async function handle(message: RelayMessage, deps: RoutingDeps): Promise<void> {
  if (message.kind === 'end') {
    const session = deps.sessions.get(message.sessionId);
    if (session !== undefined) deps.sessions.end(session, 'Terminated', message.reason);
    return;
  }
  // Not here (any more): the asking node asks again and finds where the agent went.
  if (deps.agents.get(message.instanceId) === undefined) return;
  const row = await deps.db.selectFrom('sessions').select(['target', 'work', 'agent_nonce', 'status']).where('session_id', '=', message.sessionId).executeTakeFirst();
  if (row === undefined || row.target !== message.instanceId || row.agent_nonce === null || row.status === 'Terminated' || row.status === 'Failed') return;
  const open = { type: 'session-open' as const, sessionId: message.sessionId, nonce: row.agent_nonce, work: JSON.parse(row.work) as control.SessionWork, endpointUrl: message.url };
  deps.agents.get(message.instanceId)?.send(message.resume ? { ...open, resume: true } : open);
}

/**
 * Asks the node holding `instanceId`'s control channel (while its lease runs) to tell the agent
 * to dial `url`. Nothing when no node holds it now: the broker asks again.
 */
export async function askElsewhere(agents: AgentHub, relay: NodeRelay, request: { instanceId: string; sessionId: string; url: string; resume: boolean }): Promise<void> {
  const holder = await agents.holder(request.instanceId);
  if (holder === undefined || holder === agents.nodeId) return;
  await relay.send({ kind: 'open', to: holder, ...request });
}
