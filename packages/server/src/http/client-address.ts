/**
 * The address a request came from, behind load balancers. Only the proxies the operator names
 * (`--trusted-proxies`) may speak for a caller through `X-Forwarded-For`: anyone else could
 * write any address there and escape the per-address lockouts and rate limits.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Decides whether an address is one of the operator's proxies. */
export type ProxyTrust = (address: string) => boolean;

export const TRUST_NO_PROXY: ProxyTrust = () => false;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is the IPv4 address it carries. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** A trust test from addresses and CIDR blocks ("10.0.0.0/8", "::1", "192.0.2.7"); throws on a malformed entry. */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  if (entries.length === 0) return TRUST_NO_PROXY;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) throw new Error(`"${entry}" is not an IP address or a CIDR block like 10.0.0.0/8`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new Error(`"${entry}" has a prefix length outside 0–${family === 4 ? 32 : 128}`);
    list.addSubnet(address, bits, type);
  }
  return (address) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The nearest address in the chain (the socket's peer, then X-Forwarded-For from its right end)
 * that is not a trusted proxy; the farthest one given when every hop is trusted.
 */
export function clientAddress(request: IncomingMessage, trust: ProxyTrust): string {
  const peer = plainAddress(request.socket.remoteAddress ?? '');
  if (!trust(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  let nearest = peer;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = plainAddress(forwarded[i] ?? '');
    // A hop that is no address at all ends what can be believed: the last good one stands.
    if (isIP(hop) === 0) return nearest;
    nearest = hop;
    if (!trust(hop)) return hop;
  }
  return nearest;
}
