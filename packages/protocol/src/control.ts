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

export type ServerMessage =
  | { readonly type: 'challenge'; readonly nonce: string; readonly serverTime: number }
  | { readonly type: 'welcome'; readonly heartbeatIntervalMs: number }
  | { readonly type: 'heartbeat-ack' }
  | { readonly type: 'deregistered' };

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
  | { readonly type: 'heartbeat'; readonly inventory?: Inventory };

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
    default:
      return undefined;
  }
}
