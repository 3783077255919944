import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { TracesConfig } from "./config.ts";
import { SpanIngest, type CallIngest } from "./span-ingest.ts";
import type { NameEndpoint } from "./span-mapping.ts";
import type { MeshMeasuredServices } from "./mesh-measured.ts";
import { SpanCallDeriver, SpanMetricsSink } from "./span-metrics.ts";
import { TailSampler } from "./tail-sampler.ts";
import type { SpanWriteAhead } from "../wal/span-write-ahead.ts";

export interface TraceComponentsDeps {
  config: TracesConfig;
  /** The collector pipeline: span metrics join the access-log minute aggregates. */
  pipeline: CallIngest;
  /** The collector's endpoint grouper, so span endpoints and access-log endpoints share names and caps. */
  grouper: { nameEndpoint: NameEndpoint };
  /**
   * The services sidecars measured, per minute, in shared state (spanMetrics "non-mesh" skips them): the
   * collector marks them from the access logs it ingests, Envoy's own spans mark theirs.
   */
  meshServices: MeshMeasuredServices;
  writer: Pick<StorageWriter, "writeSpans">;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  clock?: () => number;
  /** The span write-ahead buffer (collector.wal on): spans are logged on receipt and held until settled. */
  writeAhead?: SpanWriteAhead;
}

export interface TraceComponents {
  /** Span metrics and the tail sampler, which flushes kept spans to storage; start them before the span receivers. */
  components: Component[];
  /** What the span receivers hand decoded spans to (the SpanIngestPort of collector/ingest.ts). */
  spanIngest: SpanIngest;
  sampler: TailSampler;
  /** Decides every waiting trace, writes its kept spans and counts its span metrics (tests, admin flush). */
  flush(): Promise<void>;
}

/**
 * Assembles trace handling behind the span receivers (docs/traces.md): SpanIngest maps spans to mesh
 * dimensions and hands them to tail sampling; each decided trace goes to storage (when kept) and to span
 * metrics (always), so callers are found whatever the order the spans arrived in.
 */
export function createTraceComponents(deps: TraceComponentsDeps): TraceComponents {
  const { config, registry, rejects, logger } = deps;
  const { meshServices, writeAhead } = deps;
  const durability = writeAhead === undefined ? {} : { durability: writeAhead };
  const spanMetrics = new SpanMetricsSink({
    deriver: new SpanCallDeriver(config.spanMetrics, meshServices),
    meshServices,
    isMeshChecked: config.spanMetrics === "non-mesh",
    pipeline: deps.pipeline,
    rejects,
    maxWaitingSpans: config.maxBufferedSpans,
    ...durability,
  });
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
    ...durability,
  });
  const spanIngest = new SpanIngest({
    nameEndpoint: (...args) => deps.grouper.nameEndpoint(...args),
    pipeline: deps.pipeline,
    sampler,
    registry,
    rejects,
    ...(writeAhead === undefined ? {} : { writeAhead }),
  });
  return {
    components: [
      // Stops after the sampler, whose last decisions it counts.
      { name: "traces.span-metrics", start: async () => undefined, stop: () => spanMetrics.drain() },
      { name: "traces.sampler", start: async () => sampler.start(), stop: () => sampler.stop() },
    ],
    spanIngest,
    sampler,
    flush: async () => {
      await sampler.flush();
      await spanMetrics.drain();
    },
  };
}
