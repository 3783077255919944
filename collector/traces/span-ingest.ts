import { Counter, type Registry } from "prom-client";
import type { MeshCall } from "../../core/model/access-log.ts";
import type { Span } from "../../core/model/span.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { SpanIngestPort, SpanIngestResult } from "../ingest.ts";
import { validateSpanInput, type SpanInput } from "../span-input.ts";
import { mapSpan, type NameEndpoint } from "./span-mapping.ts";
import type { SpanWriteAhead } from "../wal/span-write-ahead.ts";

/** The part of the collector pipeline spans feed (CollectorPipeline.ingestCalls). */
export interface CallIngest {
  isOverloaded(): boolean;
  ingestCalls(calls: readonly MeshCall[]): boolean;
}


export interface SpanIngestOptions {
  nameEndpoint: NameEndpoint;
  /** Asked only whether it is over its bound: span metrics reach it through tail sampling (SpanMetricsSink). */
  pipeline: Pick<CallIngest, "isOverloaded">;
  /** Tail sampling; when storage is behind it refuses (isOverloaded) and receivers answer with backpressure. */
  sampler: { offer(spans: readonly Span[]): void; isOverloaded(): boolean };
  registry: Registry;
  rejects: RejectCounter;
  /** The span write-ahead buffer, when on: valid spans are logged before tail sampling takes them. */
  writeAhead?: Pick<SpanWriteAhead, "refuses" | "append" | "track" | "durable">;
}

/**
 * Where every trace receiver hands decoded spans: validates them (bad ones are counted rejects, the rest
 * of the request still counts: OTLP partial success), maps them to mesh dimensions and hands them to tail
 * sampling, which feeds storage and, once a trace is decided, span metrics (span-metrics.ts, SpanMetricsSink).
 */
export class SpanIngest implements SpanIngestPort {
  private readonly spansAccepted: Counter<"protocol">;

  constructor(private readonly options: SpanIngestOptions) {
    this.spansAccepted = new Counter({
      name: "meshsight_spans_received_total",
      help: "Spans taken from trace receivers, by protocol.",
      labelNames: ["protocol"],
      registers: [options.registry],
    });
  }

  ingest(protocol: "otlp" | "zipkin", inputs: readonly SpanInput[]): SpanIngestResult {
    const { pipeline, rejects } = this.options;
    const { writeAhead } = this.options;
    const overload = pipeline.isOverloaded()
      ? "the metrics pipeline is over capacity"
      : this.options.sampler.isOverloaded()
        ? "trace storage is behind"
        : writeAhead?.refuses() === true
          ? "the write-ahead buffer is full"
          : "";
    if (overload !== "") {
      rejects.reject(protocol, "overloaded", inputs.length, overload);
      return { outcome: "overloaded", message: `meshsight collector: ${overload}; retry later` };
    }
    const valid: SpanInput[] = [];
    let rejected = 0;
    let firstReason = "";
    for (const input of inputs) {
      const reason = validateSpanInput(input);
      if (reason !== null) {
        rejected++;
        if (firstReason === "") firstReason = reason;
        rejects.reject(protocol, reason, 1, `trace ${input.traceId || "(none)"} span ${input.spanId || "(none)"}`);
        continue;
      }
      valid.push(input);
    }
    const segment = writeAhead === undefined || valid.length === 0 ? undefined : writeAhead.append(protocol, valid);
    this.take(valid, segment);
    this.spansAccepted.inc({ protocol }, valid.length);
    const rejectMessage = rejected === 0 ? "" : `${rejected} span(s) rejected, first reason: ${firstReason} (ids must be non-zero hex: 16-byte trace id, 8-byte span id)`;
    return { outcome: "accepted", accepted: valid.length, rejected, rejectMessage };
  }

  /** Resolves once every span taken so far would survive a crash (the write-ahead buffer's fsync), if it is on. */
  durable(): Promise<void> {
    return this.options.writeAhead?.durable() ?? Promise.resolve();
  }

  /** Takes spans the write-ahead buffer logged (valid when logged) in `segment` before a crash. */
  replay(inputs: readonly SpanInput[], segment: number): void {
    this.take(inputs, segment);
  }

  private take(inputs: readonly SpanInput[], segment: number | undefined): void {
    const spans = inputs.map((input) => mapSpan(input, this.options.nameEndpoint));
    if (segment !== undefined) this.options.writeAhead?.track(spans, segment);
    this.options.sampler.offer(spans);
  }
}
