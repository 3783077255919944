import type { Component, DetectPoint } from "./dimensions.ts";
import { isNormalizedSparse, mergeSparse, percentileMs, totalCount, type SparseHistogram } from "./histogram.ts";

/**
 * Per-minute metrics of one entity (docs/architecture.md, "Metrics model"). All counters are additive, so
 * rows for the same key and minute from any number of writers merge by summing, histograms included.
 */
export type MetricScope = "service" | "instance" | "endpoint" | "relation";

/** The resolutions storage keeps; hour and day are rollups of minute rows. */
export type Resolution = "minute" | "hour" | "day";

export const RESOLUTION_MS: Record<Resolution, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Identifies an entity within a scope. */
export interface MetricKey {
  scope: MetricScope;
  /** The service; for a relation, the source (caller) service. */
  service: string;
  /** "" for a service; the instance or endpoint name; for a relation, the destination service. */
  name: string;
  /** Relations only ("" elsewhere): which side's proxy reported the call. */
  detectPoint: DetectPoint | "";
  /** Relations only ("" elsewhere). */
  component: Component | "";
}

export interface MetricValues {
  calls: number;
  errors: number;
  latencySumMs: number;
  /** Calls at or under the apdex threshold, and between it and four times it. */
  apdexSatisfied: number;
  apdexTolerating: number;
  bytesIn: number;
  bytesOut: number;
  histogram: SparseHistogram;
}

/** One entity's metrics for one minute, as the collector writes them. */
export interface MinuteMetrics extends MetricKey, MetricValues {
  /** Start of the minute, epoch milliseconds. */
  timeMs: number;
}

/** What a metrics query returns: the sum over the asked range, or over one time bucket of a series. */
export interface MetricAggregate extends MetricKey, MetricValues {
  /** Start of the time bucket for a series query; the range start otherwise. */
  timeMs: number;
}

export const DEFAULT_APDEX_THRESHOLD_MS = 500;

/** The metric names users ask for (API, alarm rules, gates). */
export type DerivedMetric = "cpm" | "sla" | "apdex" | "errors" | "calls" | "p50" | "p75" | "p90" | "p95" | "p99" | "latency_avg";

export const PERCENTILE_METRICS: Record<string, number> = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99 };

/** Derives a user-facing metric from summed values over `minutes` minutes. */
export function deriveMetric(values: MetricValues, metric: DerivedMetric, minutes: number): number {
  switch (metric) {
    case "calls":
      return values.calls;
    case "errors":
      return values.errors;
    case "cpm":
      return minutes > 0 ? values.calls / minutes : 0;
    case "sla":
      return values.calls > 0 ? ((values.calls - values.errors) / values.calls) * 100 : 100;
    case "apdex":
      return values.calls > 0 ? (values.apdexSatisfied + values.apdexTolerating / 2) / values.calls : 1;
    case "latency_avg":
      return values.calls > 0 ? values.latencySumMs / values.calls : 0;
    default: {
      const q = PERCENTILE_METRICS[metric];
      return q === undefined || totalCount(values.histogram) === 0 ? 0 : percentileMs(values.histogram, q);
    }
  }
}

/** Sums metric values, histograms bucket by bucket: the merge rule of every writer and reader. */
export function sumMetricValues(rows: readonly MetricValues[]): MetricValues {
  const total: MetricValues = { calls: 0, errors: 0, latencySumMs: 0, apdexSatisfied: 0, apdexTolerating: 0, bytesIn: 0, bytesOut: 0, histogram: { buckets: [], counts: [] } };
  for (const row of rows) {
    total.calls += row.calls;
    total.errors += row.errors;
    total.latencySumMs += row.latencySumMs;
    total.apdexSatisfied += row.apdexSatisfied;
    total.apdexTolerating += row.apdexTolerating;
    total.bytesIn += row.bytesIn;
    total.bytesOut += row.bytesOut;
  }
  // One well-formed histogram is its own sum: the common case skips the dense round trip.
  const only = rows.length === 1 ? rows[0]?.histogram : undefined;
  total.histogram = only !== undefined && isNormalizedSparse(only) ? only : mergeSparse(...rows.map((row) => row.histogram));
  return total;
}
