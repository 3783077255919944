import type { Registry } from "prom-client";
import type { AccessLogEntry, CallerLookup, MeshCall, PeerMetadata, ProxyIdentity } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE, type Component, type DetectPoint, type ServiceRef } from "../../core/model/dimensions.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { scrapedCounter } from "../../core/telemetry/scraped-counter.ts";
import { ownedCopy } from "../../core/text/owned-copy.ts";
import { hasEphemeralPort, ipOfAddress } from "./addresses.ts";
import { BoundedMap } from "./bounded-map.ts";
import { callComponent, callLatencyMs, effectiveResponseCode, isErrorCall, pathWithoutQuery } from "./call-rules.ts";
import { parseClusterName, type ParsedClusterName } from "./cluster-name.ts";
import { LearnedSelfServices } from "./learned-self.ts";
import { PeerRefCache } from "./peer-refs.ts";
import type { PeerResolver } from "./peer-resolver.ts";
import { LearnedServiceAccounts, parseSpiffeId, type ServiceAccountRef } from "./service-accounts.ts";

/** Names an endpoint of `service`; grouping and cardinality caps live with the caller (collector/endpoints). */
export type EndpointNamer = (service: string, method: string, path: string, protocol: "http" | "grpc") => string;

export interface MeshResolverOptions {
  peers: PeerResolver;
  nameEndpoint: EndpointNamer;
  rejects: RejectCounter;
  /** Where `meshsight_callers_named_total` goes; omitted in unit tests that do not read it. */
  registry?: Registry;
}

/** How a server-side call's caller was named (label `by` of meshsight_callers_named_total). */
const NAMED_BY = ["peer_metadata", "address", "mtls_identity"] as const;
type NamedBy = (typeof NAMED_BY)[number];

const REJECT_SOURCE = "mesh";
const UNKNOWN_PEER: ServiceRef = Object.freeze({ service: UNKNOWN_SERVICE, instance: "" });

/** Distinct cluster names per mesh are few (services x ports x subsets); this bounds hostile input. */
const MAX_CLUSTER_NAMES = 8_192;
const MAX_ADDRESSES = 65_536;
/** Distinct mTLS identities: one per workload's service account. */
const MAX_PRINCIPALS = 65_536;

/**
 * Maps one access-log entry, logged by a known proxy, to the calls it describes (docs/architecture.md,
 * "Dimensions"; SkyWalking's k8s-mesh analysis):
 *
 * - sidecar + `inbound|...` cluster: one server-side call, downstream peer -> this proxy's workload;
 * - sidecar + any other cluster: one client-side call, this workload -> upstream peer;
 * - sidecar without a cluster (NR, UH: no upstream selected): nothing, counted as a reject, because it is
 *   unknowable which direction the request went;
 * - gateway (`router~`), waypoint and plain Envoy: both legs, caller -> proxy (server side) and, when an
 *   upstream was selected, proxy -> upstream (client side).
 *
 * Callers are named from filter-state peer metadata first (what Istio itself says), then the PeerResolver by
 * IP, then the caller's mTLS identity (the peer certificate's SPIFFE URI, through the service accounts
 * Kubernetes or the sidecars' own node metadata report). A server-side call none of these names is marked
 * for pairing with the caller's own client-side leg by request id (collector/mesh/caller-pairing.ts).
 * Upstreams are named from peer metadata, then by IP, then by the cluster's host name
 * (`reviews.default.svc.cluster.local` -> `reviews.default`). docs/architecture.md, "Call attribution".
 *
 * The hot path allocates only the MeshCall objects: cluster names, addresses and peer refs are memoized
 * in bounded maps and the same frozen ServiceRef objects are shared between calls (never mutate them).
 */
export class MeshResolver {
  private readonly peers: PeerResolver;
  private readonly nameEndpoint: EndpointNamer;
  private readonly rejects: RejectCounter;
  private readonly clusters = new BoundedMap<string, ParsedClusterName>(MAX_CLUSTER_NAMES);
  private readonly ipByAddress = new BoundedMap<string, string>(MAX_ADDRESSES);
  /** Host-named peers by upstream address: instance is `ip:port` as for any non-Kubernetes peer. */
  private readonly hostPeerByAddress = new BoundedMap<string, ServiceRef>(MAX_ADDRESSES);
  private readonly peerRefs = new PeerRefCache();
  private readonly principals = new BoundedMap<string, ServiceAccountRef | null>(MAX_PRINCIPALS);
  private readonly serviceAccounts = new LearnedServiceAccounts();
  private readonly selves: LearnedSelfServices;
  /** Plain counts on the hot path; the metric reads them at scrape time. */
  private readonly callersNamed: Record<NamedBy, number>;

  constructor(options: MeshResolverOptions) {
    this.peers = options.peers;
    this.nameEndpoint = options.nameEndpoint;
    this.rejects = options.rejects;
    this.callersNamed = options.registry
      ? scrapedCounter({
          name: "meshsight_callers_named_total",
          help: "Server-side calls whose caller the entry itself named, by source: peer metadata, the caller's address, its mTLS identity.",
          labelName: "by",
          values: NAMED_BY,
          registry: options.registry,
        })
      : { peer_metadata: 0, address: 0, mtls_identity: 0 };
    this.selves = new LearnedSelfServices({
      serviceByAddress: (address) => this.fromIp(address),
      serviceByPod: (namespace, pod) => this.peers.byPod?.(namespace, pod) ?? null,
    });
  }

  /** The proxy's service and instance as far as its entries have told (see LearnedSelfServices). */
  selfOf(proxy: ProxyIdentity): ServiceRef {
    return this.selves.known(proxy);
  }

  /** Appends the calls `entry` describes to `out` and returns how many (0, 1 or 2). */
  resolve(proxy: ProxyIdentity, entry: AccessLogEntry, out: MeshCall[]): number {
    const cluster = this.clusterOf(entry.upstreamCluster);
    const component = callComponent(entry);

    if (proxy.role === "sidecar") {
      if (cluster.kind === "blank") {
        this.rejects.reject(REJECT_SOURCE, "sidecar_entry_without_cluster", 1, entry.responseFlags);
        return 0;
      }
      const self = this.selfFor(proxy, entry, cluster);
      if (cluster.direction === "inbound") {
        out.push(this.serverCall(entry, self, component, "mesh"));
      } else {
        out.push(this.call(entry, "client", self, this.upstreamPeer(entry, cluster), component, "none"));
      }
      return 1;
    }

    // A gateway is both the server of its caller and the client of its upstream. Waypoints sit inside the
    // mesh (their callers are sidecars); ingress gateways and plain Envoy front proxies face the outside.
    const self = this.selfFor(proxy, entry, cluster);
    out.push(this.serverCall(entry, self, component, proxy.role === "waypoint" ? "mesh" : "edge"));
    if (cluster.kind === "blank") return 1;
    out.push(this.call(entry, "client", self, this.upstreamPeer(entry, cluster), component, "none"));
    return 2;
  }

  private selfFor(proxy: ProxyIdentity, entry: AccessLogEntry, cluster: ParsedClusterName): ServiceRef {
    const self = this.selves.selfOf(proxy, entry, cluster);
    this.serviceAccounts.learn(proxy, self.service);
    return self;
  }

  /** The server side of a call; when nothing names its caller, `unknownCaller` says how pairing treats it. */
  private serverCall(entry: AccessLogEntry, self: ServiceRef, component: Component, unknownCaller: CallerLookup): MeshCall {
    const caller = this.downstreamPeer(entry);
    return caller === null
      ? this.call(entry, "server", UNKNOWN_PEER, self, component, unknownCaller)
      : this.call(entry, "server", caller, self, component, "none");
  }

  private call(
    entry: AccessLogEntry,
    detectPoint: DetectPoint,
    source: ServiceRef,
    destination: ServiceRef,
    component: Component,
    callerLookup: CallerLookup,
  ): MeshCall {
    return {
      timeMs: entry.startTimeMs,
      detectPoint,
      source,
      callerLookup,
      destination,
      endpoint: this.endpointOf(entry, destination, component),
      component,
      responseCode: effectiveResponseCode(entry),
      isError: isErrorCall(entry, detectPoint),
      latencyMs: callLatencyMs(entry, detectPoint),
      bytesIn: entry.bytesReceived,
      bytesOut: entry.bytesSent,
      requestId: entry.requestId,
      traceId: entry.traceId,
      responseFlags: entry.responseFlags,
    };
  }

  private endpointOf(entry: AccessLogEntry, destination: ServiceRef, component: Component): string {
    if (entry.protocol === "tcp") return "";
    const protocol = component === "grpc" ? "grpc" : "http";
    return this.nameEndpoint(destination.service, entry.method, pathWithoutQuery(entry.path), protocol);
  }

  /** The caller. The direct remote address is the physical peer; the plain one may come from X-Forwarded-For. */
  private downstreamPeer(entry: AccessLogEntry): ServiceRef | null {
    const byMetadata = this.fromMetadata(entry.downstreamPeer);
    if (byMetadata !== null) return this.named("peer_metadata", byMetadata);
    const byAddress = this.fromIp(entry.downstreamDirectRemoteAddress || entry.downstreamRemoteAddress);
    if (byAddress !== null) return this.named("address", byAddress);
    const byIdentity = this.fromPrincipal(entry.downstreamPeerPrincipal);
    return byIdentity === null ? null : this.named("mtls_identity", byIdentity);
  }

  private named(by: NamedBy, caller: ServiceRef): ServiceRef {
    this.callersNamed[by]++;
    return caller;
  }

  /** The service behind an mTLS identity: Kubernetes' pods first (current), then what sidecars reported. */
  private fromPrincipal(principal: string): ServiceRef | null {
    if (principal === "") return null;
    let account = this.principals.get(principal);
    if (account === undefined) {
      const kept = ownedCopy(principal);
      account = parseSpiffeId(kept);
      this.principals.set(kept, account);
    }
    if (account === null) return null;
    return this.peers.byServiceAccount?.(account.key) ?? this.serviceAccounts.serviceOf(account);
  }

  private upstreamPeer(entry: AccessLogEntry, cluster: ParsedClusterName): ServiceRef {
    return (
      this.fromMetadata(entry.upstreamPeer) ??
      this.fromIp(entry.upstreamRemoteAddress) ??
      this.fromClusterHost(entry, cluster) ??
      UNKNOWN_PEER
    );
  }

  private fromMetadata(peer: PeerMetadata | null): ServiceRef | null {
    return peer ? this.peerRefs.refOf(peer) : null;
  }

  private fromIp(address: string): ServiceRef | null {
    if (address === "") return null;
    // A caller's address carries its ephemeral port: it names one connection, so looking it up would miss
    // (hashing a new string each time: ~11 % of the access-log path) and storing it would only churn the
    // memo and the old generation of the heap. Its port is checked first, from the end, without hashing.
    if (hasEphemeralPort(address)) return this.byIp(ipOfAddress(address));
    let ip = this.ipByAddress.get(address);
    if (ip === undefined) {
      const kept = ownedCopy(address);
      ip = ipOfAddress(kept);
      this.ipByAddress.set(kept, ip);
    }
    return this.byIp(ip);
  }

  private byIp(ip: string): ServiceRef | null {
    return ip === "" ? null : this.peers.byIp(ip);
  }

  /**
   * Last resort for the upstream: the host in the cluster name. A plain-Envoy cluster (`backend`) is taken
   * as the service name itself, Envoy's own convention.
   */
  private fromClusterHost(entry: AccessLogEntry, cluster: ParsedClusterName): ServiceRef | null {
    const service = cluster.serviceFromHost || (cluster.kind === "other" ? entry.upstreamCluster : "");
    if (service === "") return null;
    const address = entry.upstreamRemoteAddress;
    const cached = this.hostPeerByAddress.get(address);
    if (cached && cached.service === service) return cached;
    const instance = ownedCopy(address);
    const ref = Object.freeze({ service: ownedCopy(service), instance });
    this.hostPeerByAddress.set(instance, ref);
    return ref;
  }

  private clusterOf(name: string): ParsedClusterName {
    let cluster = this.clusters.get(name);
    if (cluster === undefined) {
      // Parsed from a copy: the memo's key and the names cut from it must not keep the line block alive.
      const kept = ownedCopy(name);
      cluster = parseClusterName(kept);
      this.clusters.set(kept, cluster);
    }
    return cluster;
  }
}
