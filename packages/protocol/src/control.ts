/**
 * The control channel: one outbound WebSocket from each agent to the server
 * (`GET /agent/control`, wss:// off loopback). JSON text frames, one message each.
 *
 *   server → agent  challenge {nonce}                  on connect
 *   agent  → server hello {instanceId, signature, …}   signature: Ed25519 over signedChallenge()
 *   server → agent  welcome {heartbeatIntervalMs}      or a close with an AgentCloseCode
 *   agent  → server heartbeat {inventory?}             every heartbeatIntervalMs
 *   server → agent  heartbeat-ack
 *   server → agent  deregistered                       then close 4403: the agent stops for good
 *   server → agent  session-open {sessionId, nonce, work, endpointUrl?}  dial the data channel for it (data-channel.ts),
 *                   at endpointUrl when given (the node carrying the session), else the registered endpoint
 *   server → agent  session-close {sessionId, reason}      stop its program and close its channel
 *   agent  → server session-failed {sessionId, reason}     it could not start (no such Run As user…)
 *
 * Anything malformed closes that connection only (4400). A node admits only so many connections
 * that have not completed hello (in all, and from one source address): one more is closed at once
 * with 4429, before any challenge; the agent retries with backoff.
 */

export const CONTROL_PATH = '/agent/control';
export const CONTROL_PROTOCOL_VERSION = 1;

export const AgentCloseCode = {
  /** A frame that is not a known message, or out of order. */
  Malformed: 4400,
  /** Unknown instance, bad signature, or a revoked key. */
  Unauthorized: 4401,
  /** The instance was deregistered: do not reconnect. */
  Deregistered: 4403,
  /** Another connection for the same instance took over. */
  Replaced: 4409,
  /** Too many connections are waiting to complete hello (on the node, or from this address): retry later, with backoff. */
  TooManyPending: 4429,
} as const;

export interface Inventory {
  readonly platformName: string;
  readonly platformVersion: string;
  readonly kernel: string;
  readonly hostname: string;
  readonly ipAddresses: readonly string[];
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly agentVersion: string;
}

/**
 * What a session runs on the instance, resolved by the server from its document and the
 * account's preferences: the agent gets no choice, and nothing to interpret.
 */
export type SessionWork =
  /** A login shell on a PTY; `profile` is typed into it first (shellProfile.linux). */
  | { readonly kind: 'shell'; readonly runAs: RunAs; readonly profile: string }
  /** A command on a PTY (InteractiveCommands). */
  | { readonly kind: 'interactive-command'; readonly runAs: RunAs; readonly command: string }
  /** A command without a PTY; its exit status ends the session (NonInteractiveCommands). */
  | { readonly kind: 'command'; readonly runAs: RunAs; readonly command: string }
  /** TCP connections to host:port from the instance, one stream each (Port; SSH is port 22). */
  | { readonly kind: 'port'; readonly host: string; readonly port: number };

/** `ssm-user`: the agent's own low-privilege user; otherwise a named OS user (never root). */
export type RunAs = { readonly user: 'ssm-user' } | { readonly user: string; readonly named: true };

export type ServerMessage =
  | { readonly type: 'challenge'; readonly nonce: string; readonly serverTime: number }
  | { readonly type: 'welcome'; readonly heartbeatIntervalMs: number }
  | { readonly type: 'heartbeat-ack' }
  | { readonly type: 'deregistered' }
  /**
   * `resume`: the session ran before (the server restarted); open it only if its program still runs here.
   * `endpointUrl`: the node that carries the session (several nodes), dialed instead of the registered endpoint.
   */
  | { readonly type: 'session-open'; readonly sessionId: string; readonly nonce: string; readonly work: SessionWork; readonly resume?: true; readonly endpointUrl?: string }
  | { readonly type: 'session-close'; readonly sessionId: string; readonly reason: string };

export type AgentMessage =
  | {
      readonly type: 'hello';
      readonly instanceId: string;
      /** base64 Ed25519 signature of signedChallenge(nonce, instanceId). */
      readonly signature: string;
      readonly protocolVersion: number;
      readonly agentVersion: string;
      readonly capabilities: readonly string[];
      readonly inventory: Inventory;
    }
  | { readonly type: 'heartbeat'; readonly inventory?: Inventory }
  | { readonly type: 'session-failed'; readonly sessionId: string; readonly reason: string };

/** What the agent signs: bound to this server's nonce and the instance, so it cannot be replayed. */
export function signedChallenge(nonce: string, instanceId: string): string {
  return `airlock-control-v1\n${nonce}\n${instanceId}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown, max = 4096): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

function parseInventory(value: unknown): Inventory | undefined {
  if (!isRecord(value)) return undefined;
  const { platformName, platformVersion, kernel, hostname, ipAddresses, cpus, memoryBytes, agentVersion } = value;
  if (![platformName, platformVersion, kernel, hostname, agentVersion].every((field) => isString(field, 256))) return undefined;
  if (!Array.isArray(ipAddresses) || ipAddresses.length > 64 || !ipAddresses.every((ip) => isString(ip, 64))) return undefined;
  if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 0 || typeof memoryBytes !== 'number' || memoryBytes < 0) return undefined;
  return { platformName, platformVersion, kernel, hostname, ipAddresses, cpus, memoryBytes, agentVersion } as Inventory;
}

/** Reads an agent's frame into a message, or undefined when it is not one (close 4400). */
export function parseAgentMessage(text: string): AgentMessage | undefined {
  if (text.length > 65_536) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (value['type'] === 'heartbeat') {
    if (value['inventory'] === undefined) return { type: 'heartbeat' };
    const inventory = parseInventory(value['inventory']);
    return inventory === undefined ? undefined : { type: 'heartbeat', inventory };
  }
  if (value['type'] === 'session-failed') {
    const { sessionId, reason } = value;
    return isString(sessionId, 128) && isString(reason, 1024) ? { type: 'session-failed', sessionId, reason } : undefined;
  }
  if (value['type'] !== 'hello') return undefined;
  const { instanceId, signature, protocolVersion, agentVersion, capabilities } = value;
  const inventory = parseInventory(value['inventory']);
  if (!isString(instanceId, 64) || !isString(signature, 256) || typeof protocolVersion !== 'number' || !isString(agentVersion, 64)) return undefined;
  if (!Array.isArray(capabilities) || capabilities.length > 32 || !capabilities.every((capability) => isString(capability, 64)) || inventory === undefined) return undefined;
  return { type: 'hello', instanceId, signature, protocolVersion, agentVersion, capabilities: capabilities, inventory };
}

/** Reads a server's frame into a message, or undefined when it is not one. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  switch (value['type']) {
    case 'challenge':
      return isString(value['nonce'], 256) && typeof value['serverTime'] === 'number' ? { type: 'challenge', nonce: value['nonce'], serverTime: value['serverTime'] } : undefined;
    case 'welcome':
      return typeof value['heartbeatIntervalMs'] === 'number' && value['heartbeatIntervalMs'] > 0 ? { type: 'welcome', heartbeatIntervalMs: value['heartbeatIntervalMs'] } : undefined;
    case 'heartbeat-ack':
      return { type: 'heartbeat-ack' };
    case 'deregistered':
      return { type: 'deregistered' };
    case 'session-open': {
      const work = parseWork(value['work']);
      const { sessionId, nonce } = value;
      if (!isString(sessionId, 128) || !isString(nonce, 256) || work === undefined) return undefined;
      const endpointUrl = value['endpointUrl'];
      if (endpointUrl !== undefined && !(isString(endpointUrl, 2048) && /^https?:\/\/[^/]+$/.test(endpointUrl))) return undefined;
      return { type: 'session-open', sessionId, nonce, work, ...(value['resume'] === true ? { resume: true as const } : {}), ...(endpointUrl === undefined ? {} : { endpointUrl }) };
    }
    case 'session-close': {
      const { sessionId, reason } = value;
      return isString(sessionId, 128) && isString(reason, 1024) ? { type: 'session-close', sessionId, reason } : undefined;
    }
    default:
      return undefined;
  }
}

/** An OS user name as useradd takes it. */
export const OS_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

function parseRunAs(value: unknown): RunAs | undefined {
  if (!isRecord(value) || !isString(value['user'], 32) || !OS_USER.test(value['user'])) return undefined;
  if (value['named'] === undefined) return value['user'] === 'ssm-user' ? { user: 'ssm-user' } : undefined;
  return value['named'] === true && value['user'] !== 'root' ? { user: value['user'], named: true } : undefined;
}

function parseWork(value: unknown): SessionWork | undefined {
  if (!isRecord(value)) return undefined;
  if (value['kind'] === 'port') {
    const { host, port } = value;
    return isString(host, 253) && typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535 ? { kind: 'port', host, port } : undefined;
  }
  const runAs = parseRunAs(value['runAs']);
  if (runAs === undefined) return undefined;
  switch (value['kind']) {
    case 'shell':
      return typeof value['profile'] === 'string' && value['profile'].length <= 65_535 ? { kind: 'shell', runAs, profile: value['profile'] } : undefined;
    case 'interactive-command':
    case 'command': {
      const { command } = value;
      return isString(command, 65_535) ? { kind: value['kind'], runAs, command } : undefined;
    }
    default:
      return undefined;
  }
}
