import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { TracesConfig } from "./config.ts";
import { SpanIngest, type CallIngest } from "./span-ingest.ts";
import type { NameEndpoint } from "./span-mapping.ts";
import { MeshServiceSet, SpanCallDeriver, SpanMetricsSink } from "./span-metrics.ts";
import { TailSampler } from "./tail-sampler.ts";

export interface TraceComponentsDeps {
  config: TracesConfig;
  /** The collector pipeline: span metrics join the access-log minute aggregates. */
  pipeline: CallIngest;
  /** The collector's endpoint grouper, so span endpoints and access-log endpoints share names and caps. */
  grouper: { nameEndpoint: NameEndpoint };
  writer: Pick<StorageWriter, "writeSpans">;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  clock?: () => number;
}

export interface TraceComponents {
  /** The tail sampler, which flushes kept spans to storage; start it before the span receivers. */
  components: Component[];
  /**
   * Services measured by mesh sidecars (spanMetrics "non-mesh" skips them). Envoy's own spans fill it;
   * the collector should also note the service of every proxy it receives access logs from.
   */
  meshServices: MeshServiceSet;
  /** What the span receivers hand decoded spans to (the SpanIngestPort of collector/ingest.ts). */
  spanIngest: SpanIngest;
  sampler: TailSampler;
}

/**
 * Assembles trace handling behind the span receivers (docs/traces.md): SpanIngest maps spans to mesh
 * dimensions and hands them to tail sampling; each decided trace goes to storage (when kept) and to span
 * metrics (always), so callers are found whatever the order the spans arrived in.
 */
export function createTraceComponents(deps: TraceComponentsDeps): TraceComponents {
  const { config, registry, rejects, logger } = deps;
  const meshServices = new MeshServiceSet();
  const spanMetrics = new SpanMetricsSink({ deriver: new SpanCallDeriver(config.spanMetrics, meshServices), pipeline: deps.pipeline, rejects });
  const sampler = new TailSampler({
    policy: {
      decisionWaitMs: config.decisionWaitSeconds * 1000,
      slowTraceMs: config.slowTraceMs,
      sampleRate: config.sampleRate,
      maxBufferedSpans: config.maxBufferedSpans,
      // One memory knob for spans held in the collector: as many may wait for storage as half the decision buffer.
      maxSpansAwaitingStorage: Math.max(1, Math.floor(config.maxBufferedSpans / 2)),
    },
    writer: deps.writer,
    registry,
    rejects,
    logger,
    clock: deps.clock ?? Date.now,
    onDecided: (spans) => spanMetrics.count(spans),
  });
  const spanIngest = new SpanIngest({
    nameEndpoint: (...args) => deps.grouper.nameEndpoint(...args),
    pipeline: deps.pipeline,
    sampler,
    registry,
    rejects,
  });
  return {
    components: [{ name: "traces.sampler", start: async () => sampler.start(), stop: () => sampler.stop() }],
    meshServices,
    spanIngest,
    sampler,
  };
}
