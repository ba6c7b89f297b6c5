/**
 * Hosts a port-forwarding session may never reach: link-local addresses, where cloud metadata
 * services and their credentials live (169.254.169.254, fd00:ec2::254), and the names of those
 * services. The agent checks the address it actually connects to as well, since a name can
 * resolve anywhere.
 */
import { isIP } from 'node:net';

const FORBIDDEN_NAMES = new Set(['metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);

function ipv4Octets(address: string): number[] {
  return address.split('.').map(Number);
}

/** Link-local IPv4 (169.254/16), link-local IPv6 (fe80::/10), the EC2 IPv6 metadata address, or IPv4 ones mapped into IPv6. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const [a, b] = ipv4Octets(address);
    return a === 169 && b === 254;
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1] !== undefined) return isForbiddenAddress(mapped[1]);
    return /^fe[89ab][0-9a-f]:/.test(lower) || lower === 'fd00:ec2::254';
  }
  return false;
}

export function isForbiddenForwardHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isForbiddenAddress(bare) || FORBIDDEN_NAMES.has(bare.toLowerCase().replace(/\.$/, ''));
}
