/**
 * One bad pod or the whole service? Reads a candidate's instances and names one when it carries the
 * failure: most of the errors, a p95 far above its siblings', or it went silent (served calls in the
 * baseline, none now) while callers see errors, which is what a crashed or unreachable pod looks like.
 * A service with a single instance is never "concentrated": naming its only pod adds nothing.
 */
import { deriveMetric, sumMetricValues, type MetricAggregate } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { AnomalyScore } from "./anomaly.ts";
import { percent } from "./format.ts";
import type { TimeWindow } from "./mesh-snapshot.ts";
import type { QueryBudget } from "./query-budget.ts";

export interface InstanceFocus {
  instance: string;
  why: "errors" | "latency" | "silent";
  /** Human-readable figures behind the choice, for evidence. */
  summary: string;
}

/** An instance's p95 must be at least this many times its siblings' to be named for latency. */
const LATENCY_OUTLIER_FACTOR = 2;

export async function findInstanceFocus(
  reader: StorageReader,
  budget: QueryBudget,
  service: string,
  anomaly: AnomalyScore,
  windows: { current: TimeWindow; baseline: TimeWindow },
  limits: { minErrors: number; minLatencyRiseMs: number; instanceShare: number },
): Promise<InstanceFocus | null> {
  const read = (window: TimeWindow): Promise<MetricAggregate[]> =>
    budget.run(`instances of ${service}`, [], () => reader.queryMetrics({ scope: "instance", service, fromMs: window.fromMs, toMs: window.toMs, resolution: "minute", groupByTime: false }));
  const now = (await read(windows.current)).filter((row) => row.calls > 0);
  const byErrors = anomaly.errorPart > 0 ? errorConcentration(now, limits) : null;
  if (byErrors !== null) return byErrors;
  const byLatency = anomaly.latencyPart > 0 ? latencyOutlier(now, limits.minLatencyRiseMs) : null;
  if (byLatency !== null || anomaly.errorPart === 0) return byLatency;
  return silentInstance(now, (await read(windows.baseline)).filter((row) => row.calls > 0));
}

function errorConcentration(rows: readonly MetricAggregate[], limits: { minErrors: number; instanceShare: number }): InstanceFocus | null {
  if (rows.length < 2) return null;
  const totalErrors = rows.reduce((sum, row) => sum + row.errors, 0);
  if (totalErrors < limits.minErrors) return null;
  const worst = [...rows].sort((a, b) => b.errors - a.errors || a.name.localeCompare(b.name))[0];
  if (worst === undefined || worst.errors / totalErrors < limits.instanceShare) return null;
  const share = Math.round((worst.errors / totalErrors) * 100);
  return {
    instance: worst.name,
    why: "errors",
    summary: `${worst.name} has ${worst.errors} of ${totalErrors} errors (${share}%) across ${rows.length} instances, error rate ${percent(worst.errors / worst.calls)}`,
  };
}

function latencyOutlier(rows: readonly MetricAggregate[], minRiseMs: number): InstanceFocus | null {
  if (rows.length < 2) return null;
  const ranked = rows.map((row) => ({ row, p95: deriveMetric(row, "p95", 1) })).sort((a, b) => b.p95 - a.p95 || a.row.name.localeCompare(b.row.name));
  const [slowest, ...others] = ranked;
  if (slowest === undefined) return null;
  const othersP95 = deriveMetric(sumMetricValues(others.map((other) => other.row)), "p95", 1);
  if (slowest.p95 - othersP95 < minRiseMs || slowest.p95 < othersP95 * LATENCY_OUTLIER_FACTOR) return null;
  return {
    instance: slowest.row.name,
    why: "latency",
    summary: `${slowest.row.name} p95 ${Math.round(slowest.p95)} ms vs ${Math.round(othersP95)} ms on the other ${others.length} instances`,
  };
}

function silentInstance(now: readonly MetricAggregate[], before: readonly MetricAggregate[]): InstanceFocus | null {
  const answering = new Set(now.map((row) => row.name));
  const silent = before.filter((row) => !answering.has(row.name));
  // All instances silent is a whole-service outage; several silent ones is no single bad pod either.
  if (silent.length !== 1 || answering.size === 0) return null;
  const [gone] = silent;
  if (gone === undefined) return null;
  return {
    instance: gone.name,
    why: "silent",
    summary: `${gone.name} served ${gone.calls} calls in the baseline and none now, while callers see errors and ${answering.size} other instance(s) still answer`,
  };
}
