import { BlockList, isIP } from "node:net";

/**
 * The entries of the probe egress policy (docs/probes.md "Egress policy"): an address range in CIDR form
 * (`10.0.0.0/8`, `fd00::/8`), one address (`10.0.0.5`, `::1`), or a host name, exact (`db.internal`) or
 * with a leading wildcard for every name below a domain (`*.svc.cluster.local`).
 */
export type EgressEntry =
  | { type: "range"; text: string; list: BlockList; prefix128: number }
  | { type: "host"; text: string; name: string; isWildcard: boolean };

const HOST_LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
const HOST_NAME = new RegExp(`^(\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

export const EGRESS_ENTRY_EXPECTED = "expected address ranges (10.0.0.0/8, fd00::/8), addresses (10.0.0.5) or host names (db.internal, *.svc.cluster.local)";

/** Parses one entry; null when it is none of the three forms. */
export function parseEgressEntry(raw: string): EgressEntry | null {
  const text = raw.trim();
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const address = stripBrackets(text.slice(0, slash));
    const family = isIP(address);
    const bits = text.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (family === 0 || !Number.isInteger(prefix) || prefix > (family === 4 ? 32 : 128)) return null;
    return addressRange(text, address, prefix, family);
  }
  const address = stripBrackets(text);
  const family = isIP(address);
  if (family !== 0) return addressRange(text, address, family === 4 ? 32 : 128, family);
  const name = normalizeHost(text);
  if (!HOST_NAME.test(name) || name.length > 253) return null;
  const isWildcard = name.startsWith("*.");
  return { type: "host", text, name: isWildcard ? name.slice(2) : name, isWildcard };
}

/** Lower case, no brackets around IPv6 literals, no trailing dot of an absolute name. */
export function normalizeHost(host: string): string {
  return stripBrackets(host.trim().toLowerCase()).replace(/\.$/, "");
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Node's BlockList matches IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) against IPv4 ranges and the other
 * way round, so `::ffff:7f00:1` cannot slip past a `127.0.0.0/8` rule. Prefixes are compared in one 128-bit
 * space (an IPv4 /8 is a /104) so the longest match wins across both families.
 */
function addressRange(text: string, address: string, prefix: number, family: number): EgressEntry {
  const list = new BlockList();
  const type = family === 4 ? "ipv4" : "ipv6";
  list.addSubnet(withoutZone(address), prefix, type);
  return { type: "range", text, list, prefix128: family === 4 ? prefix + 96 : prefix };
}

/** `fe80::1%eth0` -> `fe80::1`: the zone names an interface, not part of the address. */
export function withoutZone(address: string): string {
  const percent = address.indexOf("%");
  return percent < 0 ? address : address.slice(0, percent);
}

export function rangeContains(entry: Extract<EgressEntry, { type: "range" }>, address: string): boolean {
  const plain = withoutZone(address);
  const family = isIP(plain);
  return family !== 0 && entry.list.check(plain, family === 4 ? "ipv4" : "ipv6");
}

/** How specifically a host entry names `host`: an exact name beats any wildcard, a longer suffix a shorter one. */
export function hostMatchLength(entry: Extract<EgressEntry, { type: "host" }>, host: string): number {
  if (!entry.isWildcard) return host === entry.name ? Number.POSITIVE_INFINITY : -1;
  return host.endsWith(`.${entry.name}`) ? entry.name.length : -1;
}

/** A built-in denial: what the range is, shown in the message of a denied probe. */
export interface BuiltInRange {
  entry: Extract<EgressEntry, { type: "range" }>;
  why: string;
}

function builtIn(text: string, why: string): BuiltInRange {
  const entry = parseEgressEntry(text);
  if (entry?.type !== "range") throw new Error(`built-in egress range ${text} does not parse`);
  return { entry, why };
}

/**
 * Denied unless an allow entry names them: this host (loopback and the unspecified address, which Linux
 * connects to the local host), link-local addresses, and the cloud metadata services (AWS/GCP/Azure
 * 169.254.169.254, AWS's IPv6 fd00:ec2::254, Alibaba's 100.100.100.200). The metadata addresses are /32 and
 * /128 entries, so allowing all of 169.254.0.0/16 (e.g. for NodeLocal DNSCache) still leaves them denied:
 * the longest matching entry decides.
 */
export const BUILT_IN_DENIED: readonly BuiltInRange[] = [
  builtIn("127.0.0.0/8", "loopback"),
  builtIn("::1/128", "loopback"),
  builtIn("0.0.0.0/8", "this host (unspecified address)"),
  builtIn("::/128", "this host (unspecified address)"),
  builtIn("169.254.0.0/16", "link-local"),
  builtIn("fe80::/10", "link-local"),
  builtIn("169.254.169.254/32", "cloud metadata service"),
  builtIn("fd00:ec2::254/128", "cloud metadata service"),
  builtIn("100.100.100.200/32", "cloud metadata service"),
];
