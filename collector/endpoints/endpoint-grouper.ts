import { Counter, Gauge, type Registry } from "prom-client";
import { groupIdSegments } from "./auto-grouping.ts";
import { CompiledEndpointRules, type EndpointRule } from "./endpoint-rules.ts";
import { pathSegments } from "./path-pattern-trie.ts";
import { TwoGenerationCache } from "./two-generation-cache.ts";

/** What every endpoint beyond a service's cap is folded into, whatever its method or protocol. */
export const OVERFLOW_ENDPOINT = "{overflow}";
const TRUNCATED_SEGMENT = "{truncated}";
/** HTTP has a handful of methods; anything beyond this many per service is hostile input and goes uncached. */
const MAX_CACHED_METHODS_PER_SERVICE = 16;

export type EndpointProtocol = "http" | "grpc";

export interface EndpointGrouperOptions {
  registry: Registry;
  rules?: readonly EndpointRule[];
  /** Distinct endpoints one service may have per window; the rest fold into OVERFLOW_ENDPOINT. */
  maxEndpointsPerService?: number;
  /** The cap resets at the start of every window, so a service can grow new endpoints, but slowly. */
  windowMs?: number;
  /** Services tracked at once; beyond it the least recently used one is forgotten. */
  maxServices?: number;
  /** Raw path -> name results cached per service (per generation, see TwoGenerationCache). */
  cacheEntriesPerService?: number;
  /** Longer paths are cut at a segment boundary and end in `/{truncated}`. */
  maxPathLength?: number;
  clock?: () => number;
}

export interface ServiceAtCap {
  service: string;
  endpoints: number;
  /** Calls folded into the overflow endpoint in the current window. */
  overflowedCalls: number;
}

/** Sizes of every structure the grouper holds, for tests and self-monitoring: all are bounded. */
export interface EndpointGrouperStats {
  services: number;
  knownEndpoints: number;
  cachedPaths: number;
}

interface ServiceEndpoints {
  readonly service: string;
  /** Name -> the same name: returning the stored string lets later map lookups reuse its cached hash. */
  readonly known: Map<string, string>;
  /** Per method, raw path -> name, so no `method + path` key string is built per call. */
  readonly cacheByMethod: Map<string, TwoGenerationCache<string, string>>;
  overflowedCalls: number;
  lastUsedTick: number;
}

const DEFAULTS = {
  maxEndpointsPerService: 1000,
  windowMs: 3_600_000,
  maxServices: 2000,
  cacheEntriesPerService: 512,
  maxPathLength: 512,
};

/**
 * Names endpoints the way ARCHITECTURE.md ("Dimensions") says: user rules first (per service, then global,
 * first match wins), then automatic grouping of id-like segments, then a hard cap per service and window.
 * Memory is bounded by maxServices x (maxEndpointsPerService + 16 methods x 2 x cacheEntriesPerService),
 * never by the number of raw URLs seen.
 */
export class EndpointGrouper {
  private readonly rules: CompiledEndpointRules;
  private readonly maxEndpointsPerService: number;
  private readonly windowMs: number;
  private readonly maxServices: number;
  private readonly cacheEntriesPerService: number;
  private readonly maxPathLength: number;
  private readonly clock: () => number;
  private readonly services = new Map<string, ServiceEndpoints>();
  private readonly overflowCounter: Counter;
  private readonly atCapGauge: Gauge;
  private windowEndMs = Number.NEGATIVE_INFINITY;
  private tick = 0;

  constructor(options: EndpointGrouperOptions) {
    this.rules = new CompiledEndpointRules(options.rules ?? []);
    this.maxEndpointsPerService = positive("maxEndpointsPerService", options.maxEndpointsPerService ?? DEFAULTS.maxEndpointsPerService);
    this.windowMs = positive("windowMs", options.windowMs ?? DEFAULTS.windowMs);
    this.maxServices = positive("maxServices", options.maxServices ?? DEFAULTS.maxServices);
    this.cacheEntriesPerService = positive("cacheEntriesPerService", options.cacheEntriesPerService ?? DEFAULTS.cacheEntriesPerService);
    this.maxPathLength = positive("maxPathLength", options.maxPathLength ?? DEFAULTS.maxPathLength);
    this.clock = options.clock ?? Date.now;
    this.overflowCounter = new Counter({
      name: "meshsight_endpoint_overflow_total",
      help: "Calls whose endpoint was folded into the overflow endpoint because its service reached its endpoint cap.",
      registers: [options.registry],
    });
    this.atCapGauge = new Gauge({
      name: "meshsight_endpoint_services_at_cap",
      help: "Services that reached their distinct-endpoint cap in the current window.",
      registers: [options.registry],
    });
  }

  /**
   * The endpoint name of a call to `service`: `METHOD:/grouped/path` for HTTP, the path as is for gRPC
   * (`/pkg.Service/Method`), OVERFLOW_ENDPOINT once the service is at its cap.
   */
  nameEndpoint(service: string, method: string, path: string, protocol: EndpointProtocol): string {
    const state = this.serviceState(service);
    const cleanPath = protocol === "http" ? withoutQuery(path) : path;
    const cache = this.cacheFor(state, protocol === "http" ? method : "");
    const cached = cache?.get(cleanPath);
    if (cached !== undefined) return cached;
    const grouped = this.groupedName(service, method, cleanPath, protocol);
    const name = this.admit(state, grouped.name);
    // A path that carried ids rarely comes again; caching it would only churn the cache.
    if (!grouped.hadIds) cache?.set(cleanPath, name);
    return name;
  }

  /** Services at their cap in the current window, most overflowed first. */
  servicesAtCap(): ServiceAtCap[] {
    const atCap: ServiceAtCap[] = [];
    for (const state of this.services.values()) {
      if (state.known.size >= this.maxEndpointsPerService) {
        atCap.push({ service: state.service, endpoints: state.known.size, overflowedCalls: state.overflowedCalls });
      }
    }
    return atCap.sort((a, b) => b.overflowedCalls - a.overflowedCalls || a.service.localeCompare(b.service));
  }

  stats(): EndpointGrouperStats {
    let knownEndpoints = 0;
    let cachedPaths = 0;
    for (const state of this.services.values()) {
      knownEndpoints += state.known.size;
      for (const cache of state.cacheByMethod.values()) cachedPaths += cache.size;
    }
    return { services: this.services.size, knownEndpoints, cachedPaths };
  }

  private groupedName(service: string, method: string, path: string, protocol: EndpointProtocol): { name: string; hadIds: boolean } {
    const boundedPath = this.truncate(path === "" ? "/" : path);
    if (protocol === "grpc") return { name: boundedPath, hadIds: false };
    const ruleMatch = this.rules.isEmpty ? undefined : this.rules.match(service, pathSegments(boundedPath));
    const grouped = ruleMatch ?? groupIdSegments(boundedPath);
    return { name: method === "" ? grouped : `${method}:${grouped}`, hadIds: grouped !== boundedPath };
  }

  /** The raw-path cache for one method; undefined (no caching) for methods beyond the bound. */
  private cacheFor(state: ServiceEndpoints, method: string): TwoGenerationCache<string, string> | undefined {
    let cache = state.cacheByMethod.get(method);
    if (cache === undefined && state.cacheByMethod.size < MAX_CACHED_METHODS_PER_SERVICE) {
      cache = new TwoGenerationCache(this.cacheEntriesPerService);
      state.cacheByMethod.set(method, cache);
    }
    return cache;
  }

  private admit(state: ServiceEndpoints, name: string): string {
    const known = state.known.get(name);
    if (known !== undefined) return known;
    if (state.known.size < this.maxEndpointsPerService) {
      state.known.set(name, name);
      if (state.known.size === this.maxEndpointsPerService) this.atCapGauge.inc();
      return name;
    }
    state.overflowedCalls++;
    this.overflowCounter.inc();
    return OVERFLOW_ENDPOINT;
  }

  private truncate(path: string): string {
    if (path.length <= this.maxPathLength) return path;
    const cut = path.lastIndexOf("/", this.maxPathLength);
    return `${path.slice(0, Math.max(cut, 0))}/${TRUNCATED_SEGMENT}`;
  }

  private serviceState(service: string): ServiceEndpoints {
    const nowMs = this.clock();
    if (nowMs >= this.windowEndMs) this.startWindow(nowMs);
    let state = this.services.get(service);
    if (state === undefined) {
      if (this.services.size >= this.maxServices) this.forgetLeastRecentlyUsedService();
      state = { service, known: new Map(), cacheByMethod: new Map(), overflowedCalls: 0, lastUsedTick: 0 };
      this.services.set(service, state);
    }
    state.lastUsedTick = ++this.tick;
    return state;
  }

  private startWindow(nowMs: number): void {
    this.windowEndMs = nowMs - (nowMs % this.windowMs) + this.windowMs;
    this.services.clear();
    this.atCapGauge.set(0);
  }

  /** A linear scan, but it only runs when a new service arrives with the table full, which is rare. */
  private forgetLeastRecentlyUsedService(): void {
    let oldest: ServiceEndpoints | undefined;
    for (const state of this.services.values()) {
      if (oldest === undefined || state.lastUsedTick < oldest.lastUsedTick) oldest = state;
    }
    if (oldest === undefined) return;
    if (oldest.known.size >= this.maxEndpointsPerService) this.atCapGauge.dec();
    this.services.delete(oldest.service);
  }
}

function withoutQuery(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 63 || code === 35) return path.slice(0, i); // ? or #
  }
  return path;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 1)) throw new RangeError(`EndpointGrouper: ${name} must be a number >= 1, got ${value}`);
  return value;
}
