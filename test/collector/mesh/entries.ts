/** Builders for access-log entries and proxies in mesh tests, shaped like Istio's real ones. */
import { pino } from "pino";
import { Registry } from "prom-client";
import type { AccessLogEntry, PeerMetadata } from "../../../core/model/access-log.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";

export function httpEntry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    startTimeMs: 1_700_000_000_000,
    protocol: "http",
    upstreamCluster: "inbound|9080||",
    downstreamRemoteAddress: "10.44.1.23:37652",
    downstreamDirectRemoteAddress: "10.44.1.23:37652",
    downstreamLocalAddress: "10.44.1.27:9080",
    upstreamRemoteAddress: "127.0.0.1:9080",
    upstreamLocalAddress: "127.0.0.1:41854",
    method: "GET",
    scheme: "http",
    authority: "reviews:9080",
    path: "/reviews/0",
    responseCode: 200,
    responseFlags: "",
    durationMs: 12,
    timeToLastDownstreamTxMs: 11,
    upstreamLatencyMs: 9,
    bytesReceived: 0,
    bytesSent: 295,
    requestId: "84961386-6d84-929d-98bd-c5aee93b5c88",
    userAgent: "curl/7.73.0-DEV",
    traceId: "",
    tlsMode: "mtls",
    requestedServerName: "outbound_.9080_._.reviews.default.svc.cluster.local",
    downstreamPeerPrincipal: "",
    downstreamPeer: null,
    upstreamPeer: null,
    ...overrides,
  };
}

export function tcpEntry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return httpEntry({
    protocol: "tcp",
    method: "",
    scheme: "",
    authority: "",
    path: "",
    responseCode: 0,
    userAgent: "",
    requestId: "",
    tlsMode: "none",
    ...overrides,
  });
}

export function peer(overrides: Partial<PeerMetadata> = {}): PeerMetadata {
  return {
    name: "productpage-v1-6b746f74dc-9stvs",
    namespace: "default",
    service: "productpage",
    workload: "productpage-v1",
    cluster: "Kubernetes",
    version: "v1",
    labels: {},
    ...overrides,
  };
}

/** A real RejectCounter on its own registry, with a way to read the counts back. */
export function countingRejects(): { rejects: RejectCounter; count: (reason: string) => Promise<number> } {
  const registry = new Registry();
  const rejects = new RejectCounter(registry, pino({ level: "silent" }));
  const count = async (reason: string): Promise<number> => {
    const metric = await registry.getMetricsAsJSON();
    const values = metric.find((m) => m.name === "meshsight_rejected_total")?.values ?? [];
    return values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
  };
  return { rejects, count };
}
