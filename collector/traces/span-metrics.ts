import type { CallerLookup, MeshCall } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { Span } from "../../core/model/span.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { TwoGenerationCache } from "../endpoints/two-generation-cache.ts";
import type { MeshMeasuredServices } from "./mesh-measured.ts";
import type { SpanDurability } from "./span-durability.ts";
import type { CallIngest } from "./span-ingest.ts";
import { componentOf, httpStatusOf } from "./span-mapping.ts";

/**
 * Which spans feed the minute aggregates (docs/traces.md, "Span metrics and double counting"):
 * - "all": every SERVER/CONSUMER span (service, instance, endpoint, relation) and CLIENT/PRODUCER span
 *   (relation, client side);
 * - "non-mesh" (default): the same, except for services a mesh sidecar measured around the span's time
 *   (MeshMeasuredServices), whose calls the access logs count; a span must not count them a second time;
 * - "off": spans are stored and searchable but never counted.
 */
export type SpanMetricsMode = "all" | "non-mesh" | "off";

/** Envoy's own spans carry these tags (Istio tracing); their service is measured by the mesh. */
const ENVOY_SPAN_TAGS = ["node_id", "upstream_cluster", "istio.mesh_id"];

function isEnvoySpan(span: Span): boolean {
  for (const tag of ENVOY_SPAN_TAGS) if (span.attributes[tag] !== undefined) return true;
  return false;
}

function startMsOf(span: Span): number {
  return Number(span.startTimeUnixNano / 1_000_000n);
}

function endMsOf(span: Span): number {
  return startMsOf(span) + span.durationNs / 1_000_000;
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
    private readonly meshServices: MeshMeasuredServices,
    maxRememberedCallers = 50_000,
  ) {
    this.callers = new TwoGenerationCache(maxRememberedCallers);
  }

  /**
   * Appends the calls `spans` describe to `out`, but for spans `isCounted` says were counted already (they
   * still name callers). Spans of one batch are remembered before deriving.
   */
  derive(spans: readonly Span[], out: MeshCall[], isCounted: (span: Span) => boolean = () => false): void {
    for (const span of spans) {
      if (isEnvoySpan(span)) this.meshServices.note(span.service, startMsOf(span));
      if (span.kind === "client" || span.kind === "producer") this.callers.set(span.spanId, span.service);
    }
    if (this.mode === "off") return;
    for (const span of spans) {
      if (isCounted(span)) continue;
      const call = this.callOf(span);
      if (call !== null) out.push(call);
    }
  }

  private callOf(span: Span): MeshCall | null {
    const isServerSide = span.kind === "server" || span.kind === "consumer";
    const isClientSide = span.kind === "client" || span.kind === "producer";
    if (!isServerSide && !isClientSide) return null;
    // The side a sidecar measures is the one to skip: its server side for calls to the service, its client side for calls from it.
    if (this.mode === "non-mesh" && this.meshServices.isMeasured(span.service, startMsOf(span), endMsOf(span))) return null;
    if (isClientSide && span.peerService === "") return null;
    const caller = isServerSide ? (span.parentSpanId === "" ? undefined : this.callers.get(span.parentSpanId)) : span.service;
    const self = { service: span.service, instance: span.instance };
    const callerLookup: CallerLookup = caller !== undefined ? "none" : span.parentSpanId === "" ? "edge" : "mesh";
    return {
      timeMs: startMsOf(span),
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
 * (a child span usually ends, and is exported, before its parent), and the sidecar logs of the same calls
 * have had the decision wait to reach a collector and mark their service (MeshMeasuredServices), which
 * span metrics read from shared state before counting ("non-mesh").
 */
export class SpanMetricsSink {
  private counting: Promise<void> = Promise.resolve();
  private spansWaiting = 0;

  constructor(
    private readonly options: {
      deriver: SpanCallDeriver;
      meshServices: MeshMeasuredServices;
      /** Whether marks must be read before counting (spanMetrics "non-mesh"). */
      isMeshChecked: boolean;
      pipeline: CallIngest;
      rejects: RejectCounter;
      /** Decided spans waiting for the marks to be read; beyond it their metrics are dropped and counted. */
      maxWaitingSpans: number;
      /** Told when spans' metrics are in the pipeline (or counted as rejects): the write-ahead buffer may let them go. */
      durability?: SpanDurability;
    },
  ) {}

  count(spans: readonly Span[]): void {
    if (!this.options.isMeshChecked) {
      this.ingest(spans);
      this.options.durability?.release(spans);
      return;
    }
    if (this.spansWaiting + spans.length > this.options.maxWaitingSpans) {
      this.options.rejects.reject("traces", "span-metrics-backlog", spans.length, `${this.spansWaiting} decided spans still wait for the shared mesh-measured marks`);
      this.options.durability?.release(spans);
      return;
    }
    this.spansWaiting += spans.length;
    // Chained, so calls reach the pipeline in decision order and drain() waits for the last batch.
    this.counting = this.counting
      .then(() => this.countAfterLookUp(spans))
      .catch((error: unknown) => this.options.rejects.reject("traces", "span-metrics-failed", spans.length, (error as Error).message))
      .finally(() => this.options.durability?.release(spans));
  }

  /** Resolves once every decided span handed over so far is counted (shutdown, tests). */
  drain(): Promise<void> {
    return this.counting;
  }

  private async countAfterLookUp(spans: readonly Span[]): Promise<void> {
    try {
      await this.options.meshServices.lookUp(spans.map((span) => ({ service: span.service, startMs: startMsOf(span), endMs: endMsOf(span) })));
      this.ingest(spans);
    } finally {
      this.spansWaiting -= spans.length;
    }
  }

  private ingest(spans: readonly Span[]): void {
    const calls: MeshCall[] = [];
    const { durability } = this.options;
    this.options.deriver.derive(spans, calls, durability === undefined ? undefined : (span) => durability.wasCounted(span));
    if (calls.length === 0) return;
    // Receivers refuse spans while the pipeline is over its bound; a refusal here only costs span metrics.
    if (this.options.pipeline.ingestCalls(calls)) durability?.counted(spans);
    else this.options.rejects.reject("traces", "span-metrics-overloaded", calls.length);
  }
}
