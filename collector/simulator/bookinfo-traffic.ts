/**
 * Generates the access-log entries real Istio proxies write for bookinfo traffic: the gateway's entry,
 * then for every hop the caller sidecar's outbound entry (cluster `outbound|9080||<host>`, upstream host =
 * callee pod) and the callee sidecar's inbound entry (cluster `inbound|9080||`, downstream remote =
 * caller pod, mTLS). Call graph: gateway -> productpage -> details, productpage -> reviews (v1/v2/v3
 * round robin), reviews v2/v3 -> ratings, and optionally ratings -> mysqldb over TCP.
 * Deterministic for a given seed, so tests can rerun the same traffic.
 */
import {
  type BookinfoPod,
  type BookinfoService,
  type BookinfoServiceInfo,
  buildBookinfoPods,
  buildBookinfoServices,
  EXTERNAL_CLIENT_IP,
  istioPeerStruct,
  spiffeId,
} from "./bookinfo-mesh.ts";
import { type HttpEntrySpec, httpEntry, tcpEntry } from "./envoy-entries.ts";
import { countClientSide, countServerSide, type SimulationReport } from "./traffic-report.ts";

export type BookinfoFault =
  /** The service's application answers `status` (default 503) for a fraction of its calls. */
  | { kind: "abort"; service: BookinfoService; fraction: number; status?: number }
  /** The service takes `delayMs` longer for a fraction (default all) of its calls. */
  | { kind: "delay"; service: BookinfoService; delayMs: number; fraction?: number }
  /** One pod is down: callers' sidecars fail to connect (503 UF) and the pod logs nothing. */
  | { kind: "pod-down"; pod: string }
  /** One pod is not deployed (yet): nothing routes to it, as before a rollout adds a new version. */
  | { kind: "pod-absent"; pod: string };

export interface TrafficOptions {
  requests: number;
  startTimeMs: number;
  /** Simulated time between two ingress requests. */
  intervalMs: number;
  faults: readonly BookinfoFault[];
  /** Adds ratings -> mysqldb TCP connections. */
  tcp: boolean;
  /**
   * Share of hops (0..1) whose entries carry no Istio peer metadata (a failed metadata exchange, an old
   * proxy): their callers are then named by mTLS identity or request id, as meshsight does for real meshes.
   */
  dropPeerMetadata: number;
  /** Share of hops (0..1) without mTLS (plaintext: no certificates, so no SPIFFE identity to name the caller). */
  dropMtls: number;
  seed: number;
}

export interface ProxyEntry {
  proxy: BookinfoPod;
  kind: "http" | "tcp";
  entry: Record<string, unknown>;
}

/** Own processing time per service, ms, before children and faults. */
const SERVICE_TIME_MS: Record<BookinfoService, number> = { "istio-ingressgateway": 0, productpage: 12, details: 2, reviews: 6, ratings: 2, mysqldb: 1 };
/** One way sidecar-to-sidecar time, ms. */
const HOP_MS = 0.5;
const INBOUND_PASSTHROUGH_IP = "127.0.0.6";

interface HandleResult {
  status: number;
  serviceMs: number;
}

/** Small deterministic PRNG (mulberry32): fault decisions and ids repeat for a seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class BookinfoTraffic {
  private readonly pods = buildBookinfoPods();
  private readonly services = new Map<BookinfoService, BookinfoServiceInfo>(buildBookinfoServices().map((info) => [info.name, info]));
  private readonly random: () => number;
  private nextEphemeralPort = 0;
  private reviewsTurn = 0;
  private batch: ProxyEntry[] = [];
  private traceId = "";
  private requestId = "";

  constructor(
    private readonly options: TrafficOptions,
    private readonly report: SimulationReport,
  ) {
    this.random = seededRandom(options.seed);
  }

  /** The entries of each ingress request in turn, so a sender can apply backpressure between requests. */
  *requests(): Generator<ProxyEntry[]> {
    const gateway = this.podsOf("istio-ingressgateway")[0] as BookinfoPod;
    for (let index = 0; index < this.options.requests; index++) {
      this.batch = [];
      this.traceId = this.randomHex(32);
      this.requestId = `${this.randomHex(8)}-${this.randomHex(4)}-4${this.randomHex(3)}-a${this.randomHex(3)}-${this.randomHex(12)}`;
      const startMs = this.options.startTimeMs + index * this.options.intervalMs;
      this.report.requests++;
      this.report.firstStartMs = Math.min(this.report.firstStartMs, startMs);
      this.report.lastStartMs = Math.max(this.report.lastStartMs, startMs);
      this.callHttp(gateway, "productpage", "/productpage", startMs);
      yield this.batch;
    }
  }

  private podsOf(service: BookinfoService): BookinfoPod[] {
    return this.pods.filter((pod) => pod.service === service);
  }

  private randomHex(length: number): string {
    let hex = "";
    while (hex.length < length) hex += Math.floor(this.random() * 0x1_0000_0000).toString(16).padStart(8, "0");
    return hex.slice(0, length);
  }

  private ephemeralPort(): number {
    this.nextEphemeralPort = (this.nextEphemeralPort + 1) % 28_000;
    return 32_768 + this.nextEphemeralPort;
  }

  private pickPod(service: BookinfoService): BookinfoPod {
    const pods = this.podsOf(service).filter((pod) => !this.options.faults.some((fault) => fault.kind === "pod-absent" && fault.pod === pod.name));
    if (service === "reviews") return pods[this.reviewsTurn++ % pods.length] as BookinfoPod;
    return pods[0] as BookinfoPod;
  }

  /** True for a `share` of the draws; draws nothing when the share is 0, so default traffic stays the same. */
  private drawn(share: number): boolean {
    return share > 0 && this.random() < share;
  }

  private isPodDown(pod: BookinfoPod): boolean {
    return this.options.faults.some((fault) => fault.kind === "pod-down" && fault.pod === pod.name);
  }

  /** One HTTP hop from `caller`'s proxy; returns what the caller's proxy saw. */
  private callHttp(caller: BookinfoPod, calleeService: BookinfoService, path: string, startMs: number): { status: number; clientMs: number } {
    const service = this.services.get(calleeService) as BookinfoServiceInfo;
    const callee = this.pickPod(calleeService);
    const isGateway = caller.role === "router";
    const cluster = `outbound|${service.port}||${service.host}`;
    const callerPort = this.ephemeralPort();
    const endpoint = `GET:${path}`;
    const carriesPeers = !this.drawn(this.options.dropPeerMetadata);
    const isMtls = !this.drawn(this.options.dropMtls);
    const common = {
      method: "GET" as const,
      authority: `${calleeService}:${service.port}`,
      path,
      requestId: this.requestId,
      userAgent: isGateway ? "Mozilla/5.0 (X11; Linux x86_64)" : "python-requests/2.31.0",
      requestHeaders: { traceparent: `00-${this.traceId}-${this.randomHex(16)}-01` },
    };
    // What the caller's proxy logs: the gateway's downstream is the browser, a sidecar's is its own app.
    const outbound: HttpEntrySpec = {
      ...common,
      startTimeMs: startMs,
      upstreamCluster: cluster,
      downstreamRemote: isGateway ? `${EXTERNAL_CLIENT_IP}:${this.ephemeralPort()}` : `${caller.ip}:${this.ephemeralPort()}`,
      downstreamLocal: isGateway ? `${caller.ip}:${caller.port}` : `${service.clusterIp}:${service.port}`,
      upstreamRemote: `${callee.ip}:${callee.port}`,
      upstreamLocal: `${caller.ip}:${callerPort}`,
      routeName: isGateway ? "bookinfo" : "default",
      upstreamPeer: carriesPeers ? istioPeerStruct(callee) : undefined,
    };
    if (this.isPodDown(callee)) {
      const clientMs = 1;
      this.emit(caller, "http", httpEntry({ ...outbound, upstreamPeer: undefined, responseCode: 503, responseFlags: ["UF"], responseCodeDetails: "upstream_reset_before_response_started{connection_failure}", lastDownstreamTxMs: clientMs, durationMs: clientMs }));
      this.countCaller(caller, callee, endpoint, 503, ["UF"]);
      return { status: 503, clientMs };
    }
    const handled = this.handle(callee, startMs + HOP_MS);
    const serverMs = handled.serviceMs + 0.2;
    const bodyBytes = handled.status === 200 ? 1_200 + Math.floor(this.random() * 3_000) : 95;
    this.emit(callee, "http", httpEntry({
      ...common,
      startTimeMs: startMs + HOP_MS,
      upstreamCluster: `inbound|${service.port}||`,
      downstreamRemote: `${caller.ip}:${callerPort}`,
      downstreamLocal: `${callee.ip}:${callee.port}`,
      upstreamRemote: `${callee.ip}:${callee.port}`,
      upstreamLocal: `${INBOUND_PASSTHROUGH_IP}:${this.ephemeralPort()}`,
      tls: isMtls ? { sni: `outbound_.${service.port}_._.${service.host}`, localUri: spiffeId(callee), peerUri: spiffeId(caller) } : undefined,
      firstUpstreamTxMs: 0.1,
      lastUpstreamRxMs: 0.1 + handled.serviceMs,
      lastDownstreamTxMs: serverMs,
      durationMs: serverMs,
      responseCode: handled.status,
      responseBodyBytes: bodyBytes,
      routeName: "default",
      downstreamPeer: carriesPeers ? istioPeerStruct(caller) : undefined,
    }));
    countServerSide(this.report, { source: caller, destination: callee, endpoint, status: handled.status, flags: [] });
    const clientMs = serverMs + 2 * HOP_MS + 0.2;
    this.emit(caller, "http", httpEntry({
      ...outbound,
      firstUpstreamTxMs: 0.1,
      lastUpstreamRxMs: 0.1 + serverMs + 2 * HOP_MS,
      lastDownstreamTxMs: clientMs,
      durationMs: clientMs,
      responseCode: handled.status,
      responseBodyBytes: bodyBytes,
    }));
    this.countCaller(caller, callee, endpoint, handled.status, []);
    return { status: handled.status, clientMs };
  }

  /** Client-side record of a hop; a gateway's single entry is also the server-side record of its inbound leg. */
  private countCaller(caller: BookinfoPod, callee: BookinfoPod, endpoint: string, status: number, flags: readonly string[]): void {
    countClientSide(this.report, { source: caller, destination: callee, status, flags });
    if (caller.role === "router") countServerSide(this.report, { source: null, destination: caller, endpoint, status, flags });
  }

  /** What a pod's application does with a call: faults first, then its own calls in sequence. */
  private handle(pod: BookinfoPod, startMs: number): HandleResult {
    let serviceMs = SERVICE_TIME_MS[pod.service];
    for (const fault of this.options.faults) {
      if (fault.kind === "delay" && fault.service === pod.service && this.random() < (fault.fraction ?? 1)) serviceMs += fault.delayMs;
    }
    for (const fault of this.options.faults) {
      if (fault.kind === "abort" && fault.service === pod.service && this.random() < fault.fraction) return { status: fault.status ?? 503, serviceMs };
    }
    // Bookinfo degrades gracefully: a failing details/reviews/ratings call still renders a 200 page.
    const childStart = (): number => startMs + serviceMs;
    if (pod.service === "productpage") {
      serviceMs += this.callHttp(pod, "details", "/details/0", childStart()).clientMs;
      serviceMs += this.callHttp(pod, "reviews", "/reviews/0", childStart()).clientMs;
    } else if (pod.service === "reviews" && pod.version !== "v1") {
      serviceMs += this.callHttp(pod, "ratings", "/ratings/0", childStart()).clientMs;
    } else if (pod.service === "ratings" && this.options.tcp) {
      serviceMs += this.callTcp(pod, "mysqldb", childStart());
    }
    return { status: 200, serviceMs };
  }

  /** One TCP connection from `caller`'s sidecar; returns its duration as the caller saw it. */
  private callTcp(caller: BookinfoPod, calleeService: BookinfoService, startMs: number): number {
    const service = this.services.get(calleeService) as BookinfoServiceInfo;
    const callee = this.pickPod(calleeService);
    const callerPort = this.ephemeralPort();
    const carriesPeers = !this.drawn(this.options.dropPeerMetadata);
    const isMtls = !this.drawn(this.options.dropMtls);
    const receivedBytes = 60 + Math.floor(this.random() * 200);
    const sentBytes = 400 + Math.floor(this.random() * 2_000);
    if (this.isPodDown(callee)) {
      this.emit(caller, "tcp", tcpEntry({ startTimeMs: startMs, upstreamCluster: `outbound|${service.port}||${service.host}`, downstreamRemote: `${caller.ip}:${this.ephemeralPort()}`, downstreamLocal: `${service.clusterIp}:${service.port}`, upstreamRemote: `${callee.ip}:${callee.port}`, responseFlags: ["UF"], durationMs: 1, receivedBytes, sentBytes: 0 }));
      countClientSide(this.report, { source: caller, destination: callee, status: 0, flags: ["UF"] });
      return 1;
    }
    const serverMs = SERVICE_TIME_MS[calleeService] + 0.2;
    this.emit(callee, "tcp", tcpEntry({
      startTimeMs: startMs + HOP_MS,
      upstreamCluster: `inbound|${service.port}||`,
      downstreamRemote: `${caller.ip}:${callerPort}`,
      downstreamLocal: `${callee.ip}:${callee.port}`,
      upstreamRemote: `${callee.ip}:${callee.port}`,
      upstreamLocal: `${INBOUND_PASSTHROUGH_IP}:${this.ephemeralPort()}`,
      tls: isMtls ? { sni: `outbound_.${service.port}_._.${service.host}`, localUri: spiffeId(callee), peerUri: spiffeId(caller) } : undefined,
      durationMs: serverMs,
      receivedBytes,
      sentBytes,
      downstreamPeer: carriesPeers ? istioPeerStruct(caller) : undefined,
    }));
    countServerSide(this.report, { source: caller, destination: callee, endpoint: "", status: 0, flags: [] });
    const clientMs = serverMs + 2 * HOP_MS;
    this.emit(caller, "tcp", tcpEntry({
      startTimeMs: startMs,
      upstreamCluster: `outbound|${service.port}||${service.host}`,
      downstreamRemote: `${caller.ip}:${this.ephemeralPort()}`,
      downstreamLocal: `${service.clusterIp}:${service.port}`,
      upstreamRemote: `${callee.ip}:${callee.port}`,
      upstreamLocal: `${caller.ip}:${callerPort}`,
      durationMs: clientMs,
      receivedBytes,
      sentBytes,
      upstreamPeer: carriesPeers ? istioPeerStruct(callee) : undefined,
    }));
    countClientSide(this.report, { source: caller, destination: callee, status: 0, flags: [] });
    return clientMs;
  }

  private emit(proxy: BookinfoPod, kind: "http" | "tcp", entry: Record<string, unknown>): void {
    this.batch.push({ proxy, kind, entry });
  }
}
