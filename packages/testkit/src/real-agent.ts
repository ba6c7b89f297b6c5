/**
 * The real agent in this process, for end-to-end tests (the CLI's, the browser's): registered with an activation
 * (its tags become the instance's), its control channel connected, its sessions on real PTYs as
 * `ssmUser` (made by the agent, so the tests run as root). Stop it with stop().
 */
import { AGENT_VERSION, collectInventory, ControlChannel, type ChannelEvent, loadPrivateKey, loadState, register, SessionManager, streamLogger, type Logger } from '@airlock/agent';
import { fleet } from '@airlock/protocol';
import type { TestServer } from './server.js';

export interface RealAgent {
  readonly instanceId: string;
  /** Its sessions, to look into. */
  readonly sessions: SessionManager;
  readonly stop: () => Promise<void>;
}

export interface RealAgentOptions {
  /** Where the agent keeps its registration and key. */
  readonly stateDir: string;
  /** The OS user sessions run as (the agent makes it). */
  readonly ssmUser: string;
  /** The sudoers file the agent writes for ssmUser. */
  readonly sudoersFile: string;
  readonly tags?: readonly { readonly Key: string; readonly Value: string }[];
  /** What its control channel does (welcome, closed, retry), for a test to time reconnects. */
  readonly onEvent?: (event: ChannelEvent) => void;
  /** What the agent says (default: nothing kept). */
  readonly log?: Logger;
}

/** `server.url` is where the agent registers and connects: a server, or a load balancer in front of several nodes. */
export async function startRealAgent(server: Pick<TestServer, 'url' | 'root'>, options: RealAgentOptions): Promise<RealAgent> {
  const { ActivationId, ActivationCode } = await server.root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', RegistrationLimit: 1, ...(options.tags === undefined ? {} : { Tags: [...options.tags] }) });
  const { registration } = await register({ endpointUrl: server.url, activationId: ActivationId, activationCode: ActivationCode, stateDir: options.stateDir });
  const { instanceId } = registration;
  const privateKey = loadPrivateKey((await loadState(options.stateDir)).privateKeyPem);
  const log = options.log ?? streamLogger({ write: () => true });
  const manager = new SessionManager({
    endpointUrl: server.url,
    instanceId,
    privateKey,
    agentVersion: AGENT_VERSION,
    log,
    report: (message) => {
      connected.report(message);
    },
    users: { ssmUser: options.ssmUser, sudoersFile: options.sudoersFile },
    killGraceMs: 300,
  });
  const connected = new ControlChannel({ endpointUrl: server.url, instanceId, privateKey, agentVersion: AGENT_VERSION, inventory: () => collectInventory({ agentVersion: AGENT_VERSION }), log, sessions: manager, ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }) });
  void connected.run();
  for (let tries = 0; !connected.connected; tries++) {
    if (tries > 250) throw new Error(`the agent of ${instanceId} did not connect`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    instanceId,
    sessions: manager,
    stop: async () => {
      await manager.stopAll();
      connected.stop();
    },
  };
}
