import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { BUILT_IN_DENIED, hostMatchLength, normalizeHost, parseEgressEntry, rangeContains, withoutZone, type EgressEntry } from "./egress-rules.ts";

/**
 * Where probes may connect (docs/probes.md "Egress policy"). Probe targets come from API callers and
 * case files, so without a policy anyone who can define a case or call /probe makes meshsight a proxy
 * into its own network: the storage HTTP interface as a yes/no oracle, the cloud metadata service, a
 * port scanner. Every connection a probe opens is checked here with the address it will really connect
 * to (after DNS resolution, on every redirect hop), so a name that resolves to a denied address is
 * denied too.
 *
 * Order, first that applies:
 *  1. meshsight's own storage and queue endpoints (their address and port): always denied;
 *  2. host-name entries, for the name the probe was given: the most specific one (an exact name beats a
 *     wildcard; deny beats allow on a tie);
 *  3. address entries (configured allow/deny and the built-in denials: loopback, link-local, cloud
 *     metadata, any port of the storage and queue hosts): the longest prefix wins; on a tie configured
 *     deny beats configured allow beats built-in;
 *  4. `defaultAction` (allow: private ranges and everything else are reachable).
 */

export type EgressAction = "allow" | "deny";

export interface EgressPolicyOptions {
  allow: readonly string[];
  deny: readonly string[];
  defaultAction: EgressAction;
  /** URLs of meshsight's own storage and queue (ClickHouse, Redis): probes never reach them. */
  ownServiceUrls?: readonly string[];
  /** Resolves the own services' host names (tests pass their own); dns.lookup by default. */
  resolveHost?: (host: string) => Promise<string[]>;
  now?: () => number;
}

export interface EgressDecision {
  isAllowed: boolean;
  /** Which rule decided, for messages: "loopback (built-in)", "prober.egress.allow 10.0.0.0/8", "default". */
  rule: string;
}

/** A connection the policy refused; the probe's result is `error`, not a failure of the target. */
export class EgressDeniedError extends Error {
  override readonly name = "EgressDeniedError";
  readonly code = "EGRESS_DENIED";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly port: number,
    readonly rule: string,
  ) {
    super(`the probe egress policy denies ${describeDestination(host, address, port)}: ${rule}`);
  }
}

function describeDestination(host: string, address: string, port: number): string {
  const shown = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  return normalizeHost(host) === withoutZone(address).toLowerCase() ? shown : `${host} (${shown})`;
}

interface OwnEndpoint {
  host: string;
  port: number;
  addresses: BlockList;
  resolvedAtMs: number;
}

type Range = Extract<EgressEntry, { type: "range" }>;
type Host = Extract<EgressEntry, { type: "host" }>;
interface RangeRule {
  range: Range;
  isAllowed: boolean;
  /** Tie-break at equal prefix length: configured deny 2, configured allow 1, built-in 0. */
  rank: number;
  rule: string;
}

/** Own service names are looked up again after this long (a ClickHouse Service IP rarely changes). */
const OWN_ADDRESSES_TTL_MS = 60_000;
const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443, "redis:": 6379, "rediss:": 6379 };

export class EgressPolicy {
  private readonly hostRules: Array<{ host: Host; isAllowed: boolean; rule: string }> = [];
  private readonly rangeRules: RangeRule[] = [];
  private readonly own: OwnEndpoint[];
  private readonly defaultAction: EgressAction;
  private readonly resolveHost: (host: string) => Promise<string[]>;
  private readonly now: () => number;
  private refreshing: Promise<void> | undefined;

  constructor(options: EgressPolicyOptions) {
    this.defaultAction = options.defaultAction;
    this.resolveHost = options.resolveHost ?? resolveAll;
    this.now = options.now ?? Date.now;
    for (const [texts, isAllowed] of [[options.deny, false], [options.allow, true]] as const) {
      for (const text of texts) {
        const entry = parseEgressEntry(text);
        if (!entry) throw new Error(`prober.egress.${isAllowed ? "allow" : "deny"}: cannot read ${JSON.stringify(text)}`);
        const rule = `prober.egress.${isAllowed ? "allow" : "deny"} ${entry.text}`;
        if (entry.type === "host") this.hostRules.push({ host: entry, isAllowed, rule });
        else this.rangeRules.push({ range: entry, isAllowed, rank: isAllowed ? 1 : 2, rule });
      }
    }
    for (const builtIn of BUILT_IN_DENIED) this.rangeRules.push({ range: builtIn.entry, isAllowed: false, rank: 0, rule: `${builtIn.why} (built-in)` });
    this.own = (options.ownServiceUrls ?? []).flatMap((url) => ownEndpointOf(url));
  }

  /**
   * The decision for connecting to `address` (already resolved) on `port`, when the probe was given
   * `host` (a name or the same address). Never connects; may look up the own services' names.
   */
  async check(host: string, address: string, port: number): Promise<EgressDecision> {
    await this.refreshOwnAddresses();
    return this.decide(normalizeHost(host), withoutZone(address), port);
  }

  /** Throws EgressDeniedError when the policy denies the destination. */
  async assertAllowed(host: string, address: string, port: number): Promise<void> {
    const decision = await this.check(host, address, port);
    if (!decision.isAllowed) throw new EgressDeniedError(host, address, port, decision.rule);
  }

  private decide(host: string, address: string, port: number): EgressDecision {
    const family = isIP(address);
    if (family === 0) return { isAllowed: false, rule: `${JSON.stringify(address)} is not an IP address` };
    const type = family === 4 ? "ipv4" : "ipv6";
    for (const endpoint of this.own) {
      if (endpoint.port === port && endpoint.addresses.check(address, type)) return { isAllowed: false, rule: `meshsight's own storage or queue (${endpoint.host}:${endpoint.port}) is never probed` };
    }
    if (isIP(host) === 0) {
      let best: { length: number; isAllowed: boolean; rule: string } | undefined;
      for (const { host: entry, isAllowed, rule } of this.hostRules) {
        const length = hostMatchLength(entry, host);
        if (length < 0) continue;
        if (!best || length > best.length || (length === best.length && !isAllowed)) best = { length, isAllowed, rule };
      }
      if (best) return { isAllowed: best.isAllowed, rule: best.rule };
    }
    let bestRange: RangeRule | undefined;
    for (const candidate of this.rangeRules) {
      if (!rangeContains(candidate.range, address)) continue;
      if (!bestRange || candidate.range.prefix128 > bestRange.range.prefix128 || (candidate.range.prefix128 === bestRange.range.prefix128 && candidate.rank > bestRange.rank)) bestRange = candidate;
    }
    if (bestRange) return { isAllowed: bestRange.isAllowed, rule: bestRange.rule };
    for (const endpoint of this.own) {
      if (endpoint.addresses.check(address, type)) return { isAllowed: false, rule: `host of meshsight's own storage or queue (${endpoint.host}); allow it in prober.egress.allow to probe its other ports` };
    }
    return { isAllowed: this.defaultAction === "allow", rule: `prober.egress.defaultAction ${this.defaultAction}` };
  }

  /** Looks the own services' names up when stale; concurrent checks share one lookup. */
  private async refreshOwnAddresses(): Promise<void> {
    const stale = this.own.filter((endpoint) => this.now() - endpoint.resolvedAtMs >= OWN_ADDRESSES_TTL_MS);
    if (stale.length === 0) return;
    this.refreshing ??= Promise.all(
      stale.map(async (endpoint) => {
        const addresses = new BlockList();
        for (const address of await this.resolveHost(endpoint.host).catch(() => [])) {
          const family = isIP(address);
          if (family !== 0) addresses.addAddress(withoutZone(address), family === 4 ? "ipv4" : "ipv6");
        }
        endpoint.addresses = addresses;
        endpoint.resolvedAtMs = this.now();
      }),
    ).then(
      () => (this.refreshing = undefined),
      () => (this.refreshing = undefined),
    );
    await this.refreshing;
  }
}

function ownEndpointOf(url: string): OwnEndpoint[] {
  if (!URL.canParse(url)) return [];
  const parsed = new URL(url);
  const host = normalizeHost(parsed.hostname);
  const port = parsed.port === "" ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  if (host === "" || port === undefined) return [];
  const addresses = new BlockList();
  const family = isIP(host);
  // A literal address needs no lookup: mark it resolved for good.
  if (family !== 0) addresses.addAddress(host, family === 4 ? "ipv4" : "ipv6");
  return [{ host, port, addresses, resolvedAtMs: family !== 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY }];
}

async function resolveAll(host: string): Promise<string[]> {
  return (await dnsLookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}
