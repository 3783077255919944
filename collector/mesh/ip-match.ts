import { isIPv4, isIPv6 } from "node:net";

/** An IP as a number, so CIDR containment is one mask and compare. IPv4-mapped IPv6 counts as IPv4. */
export interface NumericIp {
  family: 4 | 6;
  value: bigint;
}

export interface CidrRange {
  family: 4 | 6;
  /** The network address with host bits cleared. */
  network: bigint;
  prefixLength: number;
}

export function parseIp(text: string): NumericIp | null {
  const ip = text.startsWith("::ffff:") && isIPv4(text.slice(7)) ? text.slice(7) : text;
  if (isIPv4(ip)) {
    let value = 0n;
    for (const octet of ip.split(".")) value = (value << 8n) | BigInt(Number(octet));
    return { family: 4, value };
  }
  if (isIPv6(ip)) return { family: 6, value: ipv6ToBigInt(ip) };
  return null;
}

/** `10.1.0.0/16`, `fd00::/8`; a bare IP is a range of one address. Null when malformed. */
export function parseCidr(text: string): CidrRange | null {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  const width = ip.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefixLength = Number(prefixText);
  if (prefixLength > width) return null;
  return { family: ip.family, network: ip.value & mask(width, prefixLength), prefixLength };
}

export function cidrContains(range: CidrRange, ip: NumericIp): boolean {
  if (range.family !== ip.family) return false;
  const width = range.family === 4 ? 32 : 128;
  return (ip.value & mask(width, range.prefixLength)) === range.network;
}

function mask(width: number, prefixLength: number): bigint {
  const all = (1n << BigInt(width)) - 1n;
  return all ^ ((1n << BigInt(width - prefixLength)) - 1n);
}

function ipv6ToBigInt(ip: string): bigint {
  // An embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) becomes two hextets first.
  let text = ip;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const octets = tail.split(".").map(Number);
    const high = (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16);
    const low = (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = rest === undefined ? [] : rest ? rest.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...tailGroups];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(parseInt(group, 16));
  return value;
}
