import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ServiceRef } from "../../../core/model/dimensions.ts";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { BoundedMap } from "../bounded-map.ts";
import type { ManagedPeerResolver } from "../peer-resolver.ts";
import { ClusterIndex } from "./cluster-index.ts";
import { ResourceWatcher, type ReconnectBackoff } from "./resource-watcher.ts";
import { slimEndpointSlice, slimPod, slimService } from "./slim-objects.ts";

export interface KubernetesPeerResolverOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  rejects: RejectCounter;
  /** Most pods (and, separately, services and EndpointSlices) indexed; more are refused and counted. */
  maxObjects?: number;
  /** Most IP answers memoized. */
  cacheEntries?: number;
  /** How long a memoized answer is trusted even if no event said it changed (a watch gap, say). */
  cacheTtlMs?: number;
  reconnect?: ReconnectBackoff;
  now?: () => number;
}

interface CachedAnswer {
  ref: ServiceRef | null;
  expiresAtMs: number;
}

const REJECT_SOURCE = "kubernetes";

/**
 * Resolves peer IPs through the Kubernetes API: pods, Services and EndpointSlices are listed and watched
 * (cluster-wide), folded into a ClusterIndex, and answers are memoized per IP.
 *
 * The memo makes `byIp` return the same frozen ServiceRef for every call on an IP (no allocation on the
 * hot path) and is kept coherent by dropping exactly the IPs each watch event touches; the TTL only
 * bounds how long a missed event could keep a wrong answer. While the API server is unreachable the index
 * keeps its last state and the watchers reconnect with backoff (see ResourceWatcher).
 */
export class KubernetesPeerResolver implements ManagedPeerResolver {
  readonly kind = "kubernetes";
  private readonly index: ClusterIndex;
  private readonly answers: BoundedMap<string, CachedAnswer>;
  /** Service-account answers walk the account's pods: memoized too, and dropped whenever a pod changes. */
  private readonly serviceAccountAnswers: BoundedMap<string, CachedAnswer>;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private readonly rejects: RejectCounter;
  private readonly watchers: ReadonlyArray<{ start(): Promise<void>; stop(): Promise<void> }>;

  constructor(options: KubernetesPeerResolverOptions) {
    this.index = new ClusterIndex(options.maxObjects ?? 200_000);
    this.answers = new BoundedMap(options.cacheEntries ?? 65_536);
    this.serviceAccountAnswers = new BoundedMap(options.cacheEntries ?? 65_536);
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.rejects = options.rejects;

    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    const common = {
      kubeConfig: options.kubeConfig,
      logger: options.logger,
      backoff: options.reconnect ?? { initialMs: 1_000, maxMs: 30_000 },
      onBadObject: () => this.rejects.reject(REJECT_SOURCE, "malformed_object"),
    };
    const pods = new ResourceWatcher({
      ...common,
      resource: "pods",
      path: "/api/v1/pods",
      list: () => core.listPodForAllNamespaces(),
      slim: slimPod,
      onUpsert: (pod) => this.applyPodChange(this.index.upsertPod(pod)),
      onDelete: (pod) => this.applyPodChange(this.index.deletePod(pod)),
    });
    const services = new ResourceWatcher({
      ...common,
      resource: "services",
      path: "/api/v1/services",
      list: () => core.listServiceForAllNamespaces(),
      slim: slimService,
      onUpsert: (service) => this.applyChange(this.index.upsertService(service), "services"),
      onDelete: (service) => this.forget(this.index.deleteService(service)),
    });
    const slices = new ResourceWatcher({
      ...common,
      resource: "endpointslices",
      path: "/apis/discovery.k8s.io/v1/endpointslices",
      list: () => discovery.listEndpointSliceForAllNamespaces(),
      slim: slimEndpointSlice,
      onUpsert: (slice) => this.applyChange(this.index.upsertEndpointSlice(slice), "endpointslices"),
      onDelete: (slice) => this.forget(this.index.deleteEndpointSlice(slice)),
    });
    this.watchers = [pods, services, slices];
  }

  byIp(ip: string): ServiceRef | null {
    return this.memoized(this.answers, ip, () => this.index.lookUp(ip));
  }

  byServiceAccount(serviceAccountKey: string): ServiceRef | null {
    return this.memoized(this.serviceAccountAnswers, serviceAccountKey, () => this.index.lookUpServiceAccount(serviceAccountKey));
  }

  byPod(namespace: string, pod: string): ServiceRef | null {
    return this.index.lookUpPod(namespace, pod);
  }

  private memoized(answers: BoundedMap<string, CachedAnswer>, key: string, lookUp: () => ServiceRef | null): ServiceRef | null {
    const nowMs = this.now();
    const cached = answers.get(key);
    if (cached && cached.expiresAtMs > nowMs) return cached.ref;
    const found = lookUp();
    const ref = found ? Object.freeze(found) : null;
    answers.set(key, { ref, expiresAtMs: nowMs + this.cacheTtlMs });
    return ref;
  }

  /** Resolves once every resource had its first list attempt; an unreachable API server is retried behind. */
  async start(): Promise<void> {
    await Promise.all(this.watchers.map((watcher) => watcher.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((watcher) => watcher.stop()));
  }

  private applyPodChange(touchedIps: string[] | null): void {
    this.serviceAccountAnswers.clear();
    this.applyChange(touchedIps, "pods");
  }

  private applyChange(touchedIps: string[] | null, resource: string): void {
    if (touchedIps === null) {
      this.rejects.reject(REJECT_SOURCE, "index_full", 1, resource);
      return;
    }
    this.forget(touchedIps);
  }

  private forget(ips: readonly string[]): void {
    for (const ip of ips) this.answers.delete(ip);
  }
}
