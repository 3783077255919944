import type { CallerLookup, MeshCall } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { Span } from "../../core/model/span.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { TwoGenerationCache } from "../endpoints/two-generation-cache.ts";
import type { CallIngest } from "./span-ingest.ts";
import { componentOf, httpStatusOf } from "./span-mapping.ts";

/**
 * Which spans feed the minute aggregates (docs/traces.md, "Span metrics and double counting"):
 * - "all": every SERVER/CONSUMER span (service, instance, endpoint, relation) and CLIENT/PRODUCER span
 *   (relation, client side);
 * - "non-mesh" (default): the same, except for services already measured by a mesh sidecar, whose calls
 *   the access logs count; a span must not count them a second time;
 * - "off": spans are stored and searchable but never counted.
 */
export type SpanMetricsMode = "all" | "non-mesh" | "off";

/** Envoy's own spans carry these tags (Istio tracing); their service is measured by the mesh. */
const ENVOY_SPAN_TAGS = ["node_id", "upstream_cluster", "istio.mesh_id"];

/**
 * Services known to be measured by mesh sidecars, bounded (two generations). Learned from two sources:
 * Envoy's own spans (tags node_id / upstream_cluster), and whoever feeds access logs calling note()
 * (the collector's pipeline, once wired).
 */
export class MeshServiceSet {
  private readonly seen: TwoGenerationCache<string, true>;

  constructor(maxServices = 10_000) {
    this.seen = new TwoGenerationCache(maxServices);
  }

  note(service: string): void {
    if (service !== "" && service !== UNKNOWN_SERVICE) this.seen.set(service, true);
  }

  has(service: string): boolean {
    return this.seen.get(service) === true;
  }

  /** Notes the service of a span Envoy emitted. */
  noteIfEnvoySpan(span: Span): void {
    for (const tag of ENVOY_SPAN_TAGS) {
      if (span.attributes[tag] !== undefined) {
        this.note(span.service);
        return;
      }
    }
  }
}

/**
 * Turns spans into calls for aggregation. A SERVER/CONSUMER span is a server-side call to its service; its
 * caller is the service of its parent span when that parent (a CLIENT/PRODUCER span) is among the spans of
 * its trace handed over together (SpanMetricsSink) or was seen recently. A trace's root has no caller in the
 * trace: it is called from outside, one `UNKNOWN` caller as for an ingress gateway; a span whose parent
 * never came counts for its service but draws no relation (docs/architecture.md, "Call attribution").
 * A CLIENT/PRODUCER span with a known peer is a client-side call on the relation.
 */
export class SpanCallDeriver {
  /** Recent client/producer span id -> its service, so the server span of the same call finds its caller. */
  private readonly callers: TwoGenerationCache<string, string>;

  constructor(
    private readonly mode: SpanMetricsMode,
    private readonly meshServices: MeshServiceSet,
    maxRememberedCallers = 50_000,
  ) {
    this.callers = new TwoGenerationCache(maxRememberedCallers);
  }

  /** Appends the calls `spans` describe to `out`. Spans of one batch are remembered before deriving. */
  derive(spans: readonly Span[], out: MeshCall[]): void {
    for (const span of spans) {
      this.meshServices.noteIfEnvoySpan(span);
      if (span.kind === "client" || span.kind === "producer") this.callers.set(span.spanId, span.service);
    }
    if (this.mode === "off") return;
    for (const span of spans) {
      const call = this.callOf(span);
      if (call !== null) out.push(call);
    }
  }

  private callOf(span: Span): MeshCall | null {
    const isServerSide = span.kind === "server" || span.kind === "consumer";
    const isClientSide = span.kind === "client" || span.kind === "producer";
    if (!isServerSide && !isClientSide) return null;
    // The side a sidecar measures is the one to skip: its server side for calls to the service, its client side for calls from it.
    if (this.mode === "non-mesh" && this.meshServices.has(span.service)) return null;
    if (isClientSide && span.peerService === "") return null;
    const caller = isServerSide ? (span.parentSpanId === "" ? undefined : this.callers.get(span.parentSpanId)) : span.service;
    const self = { service: span.service, instance: span.instance };
    const callerLookup: CallerLookup = caller !== undefined ? "none" : span.parentSpanId === "" ? "edge" : "mesh";
    return {
      timeMs: Number(span.startTimeUnixNano / 1_000_000n),
      detectPoint: isServerSide ? "server" : "client",
      source: isServerSide ? { service: caller ?? UNKNOWN_SERVICE, instance: "" } : self,
      callerLookup,
      destination: isServerSide ? self : { service: span.peerService, instance: "" },
      endpoint: span.endpoint,
      component: componentOf(span.attributes),
      responseCode: httpStatusOf(span.attributes),
      isError: span.isError,
      latencyMs: Math.max(0, span.durationNs / 1_000_000),
      bytesIn: 0,
      bytesOut: 0,
      requestId: span.attributes["guid:x-request-id"] ?? span.attributes["http.request.header.x-request-id"] ?? "",
      traceId: span.traceId,
      responseFlags: "",
    };
  }
}

/**
 * Span metrics, counted when tail sampling has decided a trace (TailSampler's onDecided): by then the
 * trace's spans are known, so a server span finds its caller's client span whichever was exported first
 * (a child span usually ends, and is exported, before its parent), at the cost of the decision wait.
 */
export class SpanMetricsSink {
  private readonly calls: MeshCall[] = [];

  constructor(private readonly options: { deriver: SpanCallDeriver; pipeline: CallIngest; rejects: RejectCounter }) {}

  count(spans: readonly Span[]): void {
    const calls = this.calls;
    calls.length = 0;
    this.options.deriver.derive(spans, calls);
    // Receivers refuse spans while the pipeline is over its bound; a refusal here only costs span metrics.
    if (calls.length > 0 && !this.options.pipeline.ingestCalls(calls)) this.options.rejects.reject("traces", "span-metrics-overloaded", calls.length);
    calls.length = 0;
  }
}
