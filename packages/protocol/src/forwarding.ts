/**
 * Where port forwarding may never go: link-local addresses, where cloud metadata services and
 * their credentials live (169.254.169.254, fd00:ec2::254), and those services' names. The
 * server refuses such hosts at StartSession; the agent checks the address it actually connects
 * to, since a name can resolve anywhere. Pure string checks: no Node API here.
 */

const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Link-local IPv4 (169.254/16), link-local IPv6 (fe80::/10), EC2's IPv6 metadata address, or IPv4 ones mapped into IPv6. */
export function isForbiddenAddress(address: string): boolean {
  const lower = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const v4 = IPV4.exec(lower);
  if (v4 !== null) return v4[1] === '169' && v4[2] === '254';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1] !== undefined) return isForbiddenAddress(mapped[1]);
  return /^fe[89ab][0-9a-f]:/.test(lower) || lower === 'fd00:ec2::254';
}

/** A host (name or address) a forwarding session may not name. */
export function isForbiddenForwardHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isForbiddenAddress(bare) || METADATA_NAMES.has(bare.toLowerCase().replace(/\.$/, ''));
}
