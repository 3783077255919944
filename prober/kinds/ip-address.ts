import { isIPv4, isIPv6 } from "node:net";

/**
 * blackbox_exporter's address gauges (prober/utils.go chooseProtocol): `ip_protocol` (4 or 6) and
 * `ip_addr_hash`, the FNV-1a 32-bit hash of the address's bytes (4 for IPv4, also IPv4-mapped IPv6; 16
 * for IPv6), which changes when a name starts resolving elsewhere. Both are 0 while no address is known,
 * as blackbox registers them before resolving.
 */
export function addressGauges(address: string | undefined): { ip_protocol: number; ip_addr_hash: number } {
  const bytes = address === undefined ? undefined : addressBytes(address);
  if (bytes === undefined) return { ip_protocol: 0, ip_addr_hash: 0 };
  return { ip_protocol: bytes.length === 4 ? 4 : 6, ip_addr_hash: fnv1a32(bytes) };
}

function addressBytes(address: string): Uint8Array | undefined {
  const plain = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (isIPv4(plain)) return Uint8Array.from(plain.split(".").map(Number));
  if (!isIPv6(plain)) return undefined;
  const bytes = ipv6Bytes(plain);
  // Go's To4: an IPv4-mapped IPv6 address hashes as its IPv4 bytes.
  const isMapped = bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return isMapped ? bytes.subarray(12) : bytes;
}

function ipv6Bytes(address: string): Uint8Array {
  // A trailing dotted IPv4 part (::ffff:127.0.0.1) is two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const hex = dotted ? address.slice(0, dotted.index) + [((Number(dotted[1]) << 8) | Number(dotted[2])).toString(16), ((Number(dotted[3]) << 8) | Number(dotted[4])).toString(16)].join(":") : address;
  const [head = "", tail] = hex.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function fnv1a32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
