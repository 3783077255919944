import { BUCKET_COUNT, LAST_BUCKET, type SparseHistogram } from "../../model/histogram.ts";
import { RESOLUTION_MS, sumMetricValues, type MetricKey, type MetricScope, type MetricValues, type MinuteMetrics, type Resolution } from "../../model/metrics.ts";

/** One row to add into a metrics table: a key, a bucket start and summed values. */
export interface RollupRow extends MetricKey, MetricValues {
  timeMs: number;
  /** Ascending, unique buckets, as the merge SQL expects. */
  histogram: SparseHistogram;
}

interface PendingRollup extends MetricKey {
  timeMs: number;
  rows: MinuteMetrics[];
}

const SCOPES: ReadonlySet<string> = new Set<MetricScope>(["service", "instance", "endpoint", "relation"]);
const KEY_TEXT_FIELDS = ["service", "name", "detectPoint", "component"] as const;
const COUNTER_FIELDS = ["calls", "errors", "apdexSatisfied", "apdexTolerating", "bytesIn", "bytesOut"] as const;

/**
 * Why a row cannot be stored, or undefined when it can. Counters must be non-negative integers and the
 * histogram must use the shared layout; anything else would corrupt every later sum it is merged into.
 */
export function invalidMetricReason(row: MinuteMetrics): string | undefined {
  if (!SCOPES.has(row.scope)) return `scope ${String(row.scope)} is unknown`;
  for (const field of KEY_TEXT_FIELDS) {
    if (typeof row[field] !== "string") return `${field} is not a string`;
  }
  if (!Number.isSafeInteger(row.timeMs) || row.timeMs < 0) return "timeMs is not a non-negative integer";
  for (const field of COUNTER_FIELDS) {
    const value = row[field];
    if (!Number.isSafeInteger(value) || value < 0) return `${field} is not a non-negative integer`;
  }
  if (!Number.isFinite(row.latencySumMs) || row.latencySumMs < 0) return "latencySumMs is not a non-negative number";
  const { buckets, counts } = row.histogram;
  if (buckets.length !== counts.length) return "histogram buckets and counts differ in length";
  if (buckets.length > BUCKET_COUNT) return "histogram has more buckets than the layout";
  for (let i = 0; i < buckets.length; i++) {
    const bucket = buckets[i] ?? -1;
    const count = counts[i] ?? -1;
    if (!Number.isInteger(bucket) || bucket < 0 || bucket > LAST_BUCKET) return `histogram bucket ${bucket} is outside 0..${LAST_BUCKET}`;
    if (!Number.isSafeInteger(count) || count < 0) return "histogram count is not a non-negative integer";
  }
  return undefined;
}

/** The start of the `resolution` bucket holding `timeMs` (UTC, as every rollup here is). */
export function bucketStart(timeMs: number, resolution: Resolution): number {
  const size = RESOLUTION_MS[resolution];
  return Math.floor(timeMs / size) * size;
}

/**
 * Sums valid minute rows per key and `resolution` bucket. The writer's UPDATE ... FROM adds one staged row
 * per stored key and its INSERT would store a new key once per staged row, so each key must be staged once;
 * summing here also shrinks what the hour and day tables must merge.
 */
export function rollUp(rows: readonly MinuteMetrics[], resolution: Resolution): RollupRow[] {
  const byKey = new Map<string, PendingRollup>();
  for (const row of rows) {
    const timeMs = bucketStart(row.timeMs, resolution);
    // JSON keeps the parts apart whatever characters the names contain.
    const key = JSON.stringify([row.scope, row.service, row.name, row.detectPoint, row.component, timeMs]);
    let target = byKey.get(key);
    if (!target) {
      target = { scope: row.scope, service: row.service, name: row.name, detectPoint: row.detectPoint, component: row.component, timeMs, rows: [] };
      byKey.set(key, target);
    }
    target.rows.push(row);
  }
  // sumMetricValues keeps a lone well-formed histogram as it is, so the common case skips the dense round trip.
  return [...byKey.values()].map(({ rows: keyRows, ...key }) => ({ ...key, ...sumMetricValues(keyRows) }));
}
