/**
 * A session whose two ends a test plays with DataPeers: the client's data channel, dialled with
 * the token StartSession gave, and the agent's, signed as a SimulatedAgent's for the nonce of
 * its session-open. After a dropped channel or a server restart each end comes back as the
 * real ones do: the agent on its control channel, then its data channel; the client through
 * ResumeSession.
 */
import type { AirlockClient } from '@airlock/client';
import { data, sessions } from '@airlock/protocol';
import { DataPeer, type Credentials, type PeerOptions } from './data-peer.js';
import type { SessionOpen, SimulatedAgent } from './sim-agent.js';

/** What StartSession (or ResumeSession) answers. */
export interface SessionTicket {
  readonly SessionId: string;
  readonly TokenValue: string;
  readonly StreamUrl: string;
}

export interface SimulatedSession {
  readonly sessionId: string;
  /** The client's end. */
  readonly client: DataPeer;
  /** The agent's end, played by the test. */
  readonly host: DataPeer;
  /** The first session-open the agent was sent. */
  readonly opened: SessionOpen;
  /** What the host authenticates with (again after a restart). */
  readonly credentials: Extract<Credentials, { role: 'agent' }>;
  /** Where the host dials. */
  readonly agentUrl: string;
  /**
   * After agent.disconnect() (and a server restart): the agent's control channel again, and the
   * next session-open for this session, which it returns.
   */
  agentBack(server: { readonly url: string }): Promise<SessionOpen>;
  /** The host's data channel dialled again; resolves at Ready. */
  hostBack(): Promise<data.ReadyMessage>;
  /** ResumeSession as `caller`, and the client's data channel dialled with its token; resolves at Ready. */
  clientBack(caller: AirlockClient): Promise<data.ReadyMessage>;
}

/** The server's agent data path (ws:) at `url` (http:). */
export const agentDataUrl = (url: string): string => `${url.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`;

/** Joins a started session at `server`: the client dials, the agent takes its session-open, the host dials. */
export async function joinSession(
  server: { readonly url: string },
  agent: SimulatedAgent,
  started: SessionTicket,
  options: { readonly client?: PeerOptions; readonly host?: PeerOptions } = {},
): Promise<SimulatedSession> {
  const sessionId = started.SessionId;
  const client = new DataPeer(options.client);
  await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
  const opened = await agent.sessionOpen(sessionId);
  const credentials = { role: 'agent' as const, sessionId, instanceId: agent.instanceId, nonce: opened.nonce, privateKey: agent.privateKey };
  const host = new DataPeer(options.host);
  const agentUrl = agentDataUrl(server.url);
  await host.connect(agentUrl, credentials);
  const opens = (): SessionOpen[] => agent.opened.filter((message) => message.sessionId === sessionId);
  return {
    sessionId,
    client,
    host,
    opened,
    credentials,
    agentUrl,
    agentBack: async (restarted) => {
      const before = opens().length;
      await agent.connect(restarted);
      await agent.waitFor(() => opens().length > before, `the session-open of ${sessionId} after the agent's return`);
      const again = opens()[before];
      if (again === undefined) throw new Error('unreachable');
      return again;
    },
    hostBack: () => host.connect(agentUrl, credentials),
    clientBack: async (caller) => {
      const resumed = await caller.call(sessions.ResumeSession, { SessionId: sessionId });
      return client.connect(resumed.StreamUrl, { role: 'client', token: resumed.TokenValue });
    },
  };
}
