import type { Component, DetectPoint, ServiceRef } from "./dimensions.ts";

/**
 * An access-log entry after decoding, before identity resolution: what every access-log receiver
 * (ALS gRPC, text and JSON lines) hands to the mesh resolver. Field meanings follow Envoy's
 * `envoy.data.accesslog.v3.AccessLogCommon`; absent values are "" or -1, never undefined, so the hot
 * path keeps one object shape.
 */
export interface AccessLogEntry {
  /** Epoch ms (whole) of the first downstream byte; -1 when the record carries none. */
  startTimeMs: number;
  protocol: "http" | "tcp";
  /** Raw Envoy cluster name, e.g. `inbound|9080||` or `outbound|9080||reviews.default.svc.cluster.local`. */
  upstreamCluster: string;
  /** `ip:port` strings ("" when absent). */
  downstreamRemoteAddress: string;
  downstreamDirectRemoteAddress: string;
  downstreamLocalAddress: string;
  upstreamRemoteAddress: string;
  upstreamLocalAddress: string;
  /** HTTP only ("" for TCP). */
  method: string;
  scheme: string;
  authority: string;
  path: string;
  /** 0 when absent (TCP, or a request that never got a response). */
  responseCode: number;
  /** Envoy's short codes joined by commas (`UH,UF`), "" when none. */
  responseFlags: string;
  /** Whole request (HTTP) or connection (TCP) duration, ms; -1 when unknown. */
  durationMs: number;
  /** Server-side latency: time to the last byte sent downstream, ms; -1 when unknown. */
  timeToLastDownstreamTxMs: number;
  /** Client-side latency: last upstream byte received minus first upstream byte sent, ms; -1 when unknown. */
  upstreamLatencyMs: number;
  bytesReceived: number;
  bytesSent: number;
  requestId: string;
  userAgent: string;
  /** "" when the entry carries no trace context. */
  traceId: string;
  /** "none" without TLS, "tls" with a local certificate only, "mtls" with both certificates. */
  tlsMode: "none" | "tls" | "mtls";
  /** SNI requested by the downstream, e.g. `outbound_.9080_._.reviews.default.svc.cluster.local`. */
  requestedServerName: string;
  /**
   * The downstream peer certificate's URI SAN, Istio's mTLS identity of the caller
   * (`spiffe://cluster.local/ns/default/sa/bookinfo-productpage`); "" without mTLS.
   */
  downstreamPeerPrincipal: string;
  /** Istio peer metadata from filter state (downstream_peer / upstream_peer), when logged. */
  downstreamPeer: PeerMetadata | null;
  upstreamPeer: PeerMetadata | null;
}

/** Workload identity of a peer as Istio's metadata exchange reports it (keys looked up case-insensitively). */
export interface PeerMetadata {
  /** Pod name. */
  name: string;
  namespace: string;
  /** Canonical service name when known, else "". */
  service: string;
  workload: string;
  cluster: string;
  version: string;
  labels: Record<string, string>;
}

/** What kind of proxy logged an entry, from the ALS node id prefix. */
export type ProxyRole = "sidecar" | "router" | "waypoint" | "none";

/** The proxy that logged a batch of entries, known per ALS stream or per log source. */
export interface ProxyIdentity {
  role: ProxyRole;
  /** The proxy's own service and instance (resolved from node metadata or source config). */
  self: ServiceRef;
  namespace: string;
  /** Pod IP, from the node id or INSTANCE_IPS. */
  ip: string;
  /** Pod labels and other attributes worth keeping on the instance entity. */
  attributes: Record<string, string>;
  /**
   * True when `self.service` is only a guess from the pod name (tailed log files): the mesh resolver then
   * learns the name callers use from the entries themselves (collector/mesh/learned-self.ts).
   */
  selfIsGuess?: boolean;
}

/**
 * How far a call's caller is still to be found (docs/architecture.md, "Call attribution"):
 * - "none": the source is decided (known, or this is a client-side call);
 * - "mesh": a server-side call of an in-mesh proxy whose caller nothing named yet: the callee's own metrics
 *   count it, but it makes a relation only once pairing with the caller's client-side leg names the caller;
 * - "edge": a server-side call of an edge proxy (ingress gateway, plain Envoy) from outside: if pairing
 *   names no in-mesh caller, the relation is the one `UNKNOWN` outside node feeding the edge.
 */
export type CallerLookup = "none" | "mesh" | "edge";

/** One call after identity resolution: what aggregation consumes. Receivers of traces produce it too. */
export interface MeshCall {
  timeMs: number;
  detectPoint: DetectPoint;
  source: ServiceRef;
  callerLookup: CallerLookup;
  destination: ServiceRef;
  /** Endpoint of the destination service, already grouped (`GET:/api/products/{id}`); "" for TCP. */
  endpoint: string;
  component: Component;
  responseCode: number;
  isError: boolean;
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
  requestId: string;
  traceId: string;
  responseFlags: string;
}

/** An Envoy node as carried in the first ALS message (`identifier.node`), metadata as plain JSON. */
export interface NodeInfo {
  id: string;
  cluster: string;
  metadata: Record<string, unknown>;
}

/**
 * A fresh entry with every field at its "absent" value. Every decoder and parser starts from this one
 * literal, so all entries share one hidden class and the aggregation hot path stays monomorphic.
 */
export function newAccessLogEntry(protocol: "http" | "tcp"): AccessLogEntry {
  return {
    startTimeMs: -1,
    protocol,
    upstreamCluster: "",
    downstreamRemoteAddress: "",
    downstreamDirectRemoteAddress: "",
    downstreamLocalAddress: "",
    upstreamRemoteAddress: "",
    upstreamLocalAddress: "",
    method: "",
    scheme: "",
    authority: "",
    path: "",
    responseCode: 0,
    responseFlags: "",
    durationMs: -1,
    timeToLastDownstreamTxMs: -1,
    upstreamLatencyMs: -1,
    bytesReceived: 0,
    bytesSent: 0,
    requestId: "",
    userAgent: "",
    traceId: "",
    tlsMode: "none",
    requestedServerName: "",
    downstreamPeerPrincipal: "",
    downstreamPeer: null,
    upstreamPeer: null,
  };
}
