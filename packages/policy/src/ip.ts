/**
 * IPv4 and IPv6 addresses and CIDR blocks, parsed by hand so that the package needs no Node
 * APIs and a request builds no regular expression. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`) is read as the IPv4 address it carries.
 */

export interface CidrBlock {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) {
    const v6 = parseIpv6(text);
    if (v6 === undefined) return undefined;
    return isV4Mapped(v6) ? v6.slice(12) : v6;
  }
  return parseIpv4(text);
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning that one host. */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const bits = address.length * 8;
  if (slash < 0) return { bytes: address, prefix: bits };
  // A v4-mapped v6 block was narrowed to v4 above, but its prefix still counts 128 bits.
  const mapped = address.length === 4 && text.includes(':');
  const prefix = parseDecimal(text.slice(slash + 1), mapped ? 128 : bits);
  if (prefix === undefined) return undefined;
  const mappedPrefix = mapped ? prefix - 96 : prefix;
  if (mappedPrefix < 0) return undefined;
  return { bytes: address, prefix: mappedPrefix };
}

export function cidrContains(block: CidrBlock, address: Uint8Array): boolean {
  if (block.bytes.length !== address.length) return false;
  const whole = block.prefix >> 3;
  for (let i = 0; i < whole; i++) if (block.bytes[i] !== address[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((block.bytes[whole] ?? 0) & mask) === ((address[whole] ?? 0) & mask);
}

function parseDecimal(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > 3) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (text.length > 1 && text[0] === '0') return undefined;
  return value <= max ? value : undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const pieces = text.split('.');
  if (pieces.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const value = parseDecimal(pieces[i] as string, 255);
    if (value === undefined) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseHextet(text: string): number | undefined {
  if (text.length === 0 || text.length > 4) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = parseInt(text[i] as string, 16);
    if (Number.isNaN(digit)) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        const value = parseHextet(piece);
        if (value === undefined) return undefined;
        out.push(value);
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(compressed ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
