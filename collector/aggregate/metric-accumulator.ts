import type { MeshCall } from "../../core/model/access-log.ts";
import { newDenseHistogram, recordLatency, toSparse, type DenseHistogram } from "../../core/model/histogram.ts";
import type { MetricKey, MinuteMetrics } from "../../core/model/metrics.ts";

/**
 * One entity's counters for one minute, updated in place: a call costs a few additions and one histogram
 * bucket increment, nothing allocated. The dense histogram (256 float64s, 2 KiB) is why open
 * entity-minutes are bounded by the aggregator.
 */
export class MetricAccumulator {
  calls = 0;
  errors = 0;
  latencySumMs = 0;
  apdexSatisfied = 0;
  apdexTolerating = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastSeenMs = 0;
  readonly histogram: DenseHistogram = newDenseHistogram();

  /** `apdexThresholdMs` is the threshold of the service the calls go to, looked up once at creation. */
  constructor(private readonly apdexThresholdMs: number) {}

  add(call: MeshCall): void {
    const latencyMs = call.latencyMs;
    this.calls++;
    this.latencySumMs += latencyMs;
    recordLatency(this.histogram, latencyMs);
    // As in SkyWalking's apdex: a failed call is frustrated however fast it failed.
    if (call.isError) this.errors++;
    else if (latencyMs <= this.apdexThresholdMs) this.apdexSatisfied++;
    else if (latencyMs <= 4 * this.apdexThresholdMs) this.apdexTolerating++;
    this.bytesIn += call.bytesIn;
    this.bytesOut += call.bytesOut;
    if (call.timeMs > this.lastSeenMs) this.lastSeenMs = call.timeMs;
  }

  toMinuteMetrics(timeMs: number, key: MetricKey): MinuteMetrics {
    return {
      ...key,
      timeMs,
      calls: this.calls,
      errors: this.errors,
      latencySumMs: this.latencySumMs,
      apdexSatisfied: this.apdexSatisfied,
      apdexTolerating: this.apdexTolerating,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      histogram: toSparse(this.histogram),
    };
  }
}
