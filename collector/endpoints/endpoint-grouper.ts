import { Counter, Gauge, type Registry } from "prom-client";
import { ownedCopy } from "../../core/text/owned-copy.ts";
import { groupIdSegments } from "./auto-grouping.ts";
import { CompiledEndpointRules, type EndpointRule } from "./endpoint-rules.ts";
import { GroupedShapeMemo } from "./grouped-shape-memo.ts";
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
  /**
   * Services tracked at once; beyond it one not used since the eviction hand last passed it is forgotten
   * (second chance: near least-recently-used, at a constant cost per new service).
   */
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
  /** Grouped forms of id paths remembered (at most one per known endpoint). */
  groupedShapes: number;
}

/** What one (service, method) remembers about its paths. */
interface MethodNames {
  /** Raw path -> name, for paths without ids where shapes do not apply (rules, gRPC, truncated paths). */
  readonly byPath: TwoGenerationCache<string, string>;
  /** Grouped form -> name, for automatically grouped paths (each raw path with ids is new; its shape is not). */
  readonly byShape: GroupedShapeMemo;
}

interface ServiceEndpoints {
  readonly service: string;
  /** Name -> the same name: returning the stored string lets later map lookups reuse its cached hash. */
  readonly known: Map<string, string>;
  /** Per method, so no `method + path` key string is built per call. */
  readonly namesByMethod: Map<string, MethodNames>;
  overflowedCalls: number;
  lastUsedTick: number;
  /** The tick at which it was (re)queued for eviction: used since then, it gets a second chance. */
  queuedTick: number;
}

const DEFAULTS = {
  maxEndpointsPerService: 1000,
  windowMs: 3_600_000,
  maxServices: 2000,
  cacheEntriesPerService: 512,
  maxPathLength: 512,
};

/**
 * Names endpoints the way docs/architecture.md ("Dimensions") says: user rules first (per service, then global,
 * first match wins), then automatic grouping of id-like segments, then a hard cap per service and window.
 * Memory is bounded by maxServices x (maxEndpointsPerService + 16 methods x (2 x cacheEntriesPerService +
 * maxEndpointsPerService)), never by the number of raw URLs seen.
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
    const names = this.namesFor(state, protocol === "http" ? method : "");
    // Shapes stand for automatic grouping only: with rules or truncation the name is not the grouped path.
    // A path without ids is its own shape, so one lookup serves both kinds (a raw-path miss first would
    // cost as much as the shape lookup itself: every path with ids is a new string to hash).
    const isShapeMemoable = protocol === "http" && cleanPath !== "" && cleanPath.length <= this.maxPathLength && !this.rules.appliesTo(service);
    const remembered = isShapeMemoable ? names?.byShape.nameOf(cleanPath) : names?.byPath.get(cleanPath);
    if (remembered !== undefined) return remembered;
    const grouped = this.groupedPath(service, cleanPath, protocol);
    const name = this.admit(state, method === "" || protocol === "grpc" ? grouped.path : `${method}:${grouped.path}`);
    // What is remembered is copied: a path may be a view into the block of log lines it was read from.
    if (isShapeMemoable) {
      // Overflowed names are not remembered, so every overflowed call is counted.
      if (name !== OVERFLOW_ENDPOINT) names?.byShape.remember(ownedCopy(grouped.path), name);
    } else if (!grouped.hadIds) {
      // A path that carried ids rarely comes again; caching it would only churn the cache.
      names?.byPath.set(ownedCopy(cleanPath), name);
    }
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
    let groupedShapes = 0;
    for (const state of this.services.values()) {
      knownEndpoints += state.known.size;
      for (const names of state.namesByMethod.values()) {
        cachedPaths += names.byPath.size;
        groupedShapes += names.byShape.size;
      }
    }
    return { services: this.services.size, knownEndpoints, cachedPaths, groupedShapes };
  }

  /** The path part of the name (rules, then automatic grouping); hadIds when it differs from the path. */
  private groupedPath(service: string, path: string, protocol: EndpointProtocol): { path: string; hadIds: boolean } {
    const boundedPath = this.truncate(path === "" ? "/" : path);
    if (protocol === "grpc") return { path: boundedPath, hadIds: false };
    const ruleMatch = this.rules.isEmpty ? undefined : this.rules.match(service, pathSegments(boundedPath));
    const grouped = ruleMatch ?? groupIdSegments(boundedPath);
    return { path: grouped, hadIds: grouped !== boundedPath };
  }

  /** What one method of a service remembers; undefined (no caching) for methods beyond the bound. */
  private namesFor(state: ServiceEndpoints, method: string): MethodNames | undefined {
    let names = state.namesByMethod.get(method);
    if (names === undefined && state.namesByMethod.size < MAX_CACHED_METHODS_PER_SERVICE) {
      names = { byPath: new TwoGenerationCache(this.cacheEntriesPerService), byShape: new GroupedShapeMemo(this.maxEndpointsPerService) };
      state.namesByMethod.set(method, names);
    }
    return names;
  }

  private admit(state: ServiceEndpoints, name: string): string {
    const known = state.known.get(name);
    if (known !== undefined) return known;
    if (state.known.size < this.maxEndpointsPerService) {
      const kept = ownedCopy(name);
      state.known.set(kept, kept);
      if (state.known.size === this.maxEndpointsPerService) this.atCapGauge.inc();
      return kept;
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
      if (this.services.size >= this.maxServices) this.forgetAServiceNotUsedLately();
      // Queued as of its first use: only a later use earns it a second chance.
      const tick = ++this.tick;
      state = { service, known: new Map(), namesByMethod: new Map(), overflowedCalls: 0, lastUsedTick: tick, queuedTick: tick };
      this.services.set(service, state);
      return state;
    }
    state.lastUsedTick = ++this.tick;
    return state;
  }

  private startWindow(nowMs: number): void {
    this.windowEndMs = nowMs - (nowMs % this.windowMs) + this.windowMs;
    this.services.clear();
    this.atCapGauge.set(0);
  }

  /**
   * Walks the services oldest queued first: one used since it was queued goes to the back of the queue,
   * the first one not used since is forgotten. Every requeue stands for a use, so a flood of new services
   * costs a constant amount per service, not a scan of all of them (a full scan per new service made the
   * grouper the hot spot of entity floods).
   */
  private forgetAServiceNotUsedLately(): void {
    for (const state of this.services.values()) {
      this.services.delete(state.service);
      if (state.lastUsedTick > state.queuedTick) {
        state.queuedTick = this.tick;
        this.services.set(state.service, state);
        continue;
      }
      if (state.known.size >= this.maxEndpointsPerService) this.atCapGauge.dec();
      return;
    }
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
