/**
 * SQL fragments over meshsight's ClickHouse tables (core/storage/clickhouse/sql), written for the
 * Grafana ClickHouse data source's macros and for every ClickHouse meshsight supports, 18.16 included.
 *
 * Two macros are avoided on purpose: `$__timeInterval(col)` expands to toStartOfInterval and
 * `$__timeFilter_ms(col)` to fromUnixTimestamp64Milli, and ClickHouse 18.16 has neither. Buckets are
 * built from `$__interval_s` with intDiv instead, and millisecond columns are compared with
 * `$__fromTime`/`$__toTime` in seconds times 1000.
 *
 * Metric rows merge eventually (SummingMergeTree), so every read aggregates, exactly like the reader in
 * core/storage/clickhouse/reader.ts, and the derived metrics repeat core/model/metrics.ts deriveMetric.
 */

/** Time buckets of the panel's interval, never finer than the one-minute rows. */
export const TIME_BUCKET = "toDateTime(intDiv(toUInt32(time), greatest($__interval_s, 60)) * greatest($__interval_s, 60)) AS t";
export const BUCKET_MINUTES = "(greatest($__interval_s, 60) / 60)";
/** Minutes in the dashboard's time range: cpm over the whole range. */
export const RANGE_MINUTES = "greatest((toUInt32($__toTime) - toUInt32($__fromTime)) / 60, 1)";
export const MINUTE_ROWS_IN_RANGE = "$__timeFilter(time)";
/** Millisecond columns (samples.time_ms, probe_results.started_ms), with `time` pruning partitions. */
export function msColumnInRange(column: string): string {
  return `$__timeFilter(time) AND ${column} >= toUInt64(toUInt32($__fromTime)) * 1000 AND ${column} <= toUInt64(toUInt32($__toTime)) * 1000`;
}

export function cpm(minutes: string): string {
  return `round(sum(calls) / ${minutes}, 2)`;
}

/** Success percentage; 100 without calls, as deriveMetric. */
export const SLA = "round(if(sum(calls) = 0, 100, (sum(calls) - sum(errors)) * 100 / sum(calls)), 2)";
export const APDEX = "round(if(sum(calls) = 0, 1, (sum(apdex_satisfied) + sum(apdex_tolerating) / 2) / sum(calls)), 3)";
export const LATENCY_AVG = "round(if(sum(calls) = 0, 0, sum(latency_sum_ms) / sum(calls)), 1)";
export const HISTOGRAM = "sumMap(histogramMap.bucket, histogramMap.count) AS histogram";

/**
 * Nearest-rank percentile of the summed histogram in ms, as core/model/histogram.ts percentileMs: the
 * geometric middle of the first bucket whose running count reaches ceil(q * total) (8 buckets per
 * octave over microseconds). Needs `HISTOGRAM` in the same SELECT. Lambda parameters carry a `hist_`
 * prefix because ClickHouse resolves any alias of the query before a lambda's own parameter names.
 */
export function percentile(q: number): string {
  const counts = "tupleElement(histogram, 2)";
  const bucket = `arrayFirst((hist_bucket, hist_running) -> hist_running >= ceil(${q} * arraySum(${counts})), tupleElement(histogram, 1), arrayCumSum(${counts}))`;
  return `round(if(arraySum(${counts}) = 0, 0, if(${bucket} = 0, 1, pow(2, (${bucket} - 0.5) / 8)) / 1000), 1)`;
}

/** Health in 0..1 from SLA and apdex: the worse of the two, so a fast failing service is not healthy. */
export const HEALTH = `round(least(${SLA} / 100, ${APDEX}), 3)`;

export function scopeFilter(scope: "service" | "instance" | "endpoint" | "relation"): string {
  return `scope = '${scope}' AND ${MINUTE_ROWS_IN_RANGE}`;
}

export type DerivedColumn = "calls" | "errors" | "cpm" | "sla" | "apdex" | "health" | "latency_avg" | "p50" | "p75" | "p90" | "p95" | "p99";

const PERCENTILES: Partial<Record<DerivedColumn, number>> = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99 };

function derived(column: DerivedColumn, minutes: string): string {
  const q = PERCENTILES[column];
  if (q !== undefined) return percentile(q);
  switch (column) {
    case "calls":
      return "sum(calls)";
    case "errors":
      return "sum(errors)";
    case "cpm":
      return cpm(minutes);
    case "sla":
      return SLA;
    case "apdex":
      return APDEX;
    case "health":
      return HEALTH;
    default:
      return LATENCY_AVG;
  }
}

export interface Summary {
  /** Grouping keys: `time` bucketing (TIME_BUCKET) or columns, each `expression AS alias` or a column. */
  keys: string[];
  where: string;
  columns: DerivedColumn[];
  /** Minutes each group covers, for cpm: RANGE_MINUTES for a whole-range table, BUCKET_MINUTES for a series. */
  minutes: string;
  orderBy: string;
  limit?: number;
  table?: string;
}

function aliasOf(key: string): string {
  const match = /\bAS\s+(\w+)\s*$/i.exec(key);
  return match?.[1] ?? key;
}

/**
 * Metric rows summed per key, then derived. The derived values live in an inner query beside the summed
 * histogram so the outer query shows only named columns; aliases are prefixed (`m_`) inside because
 * ClickHouse would otherwise read `calls` in sum(calls) as the alias of the same name.
 */
export function summarize(summary: Summary): string {
  const aliases = summary.keys.map(aliasOf);
  const inner = summary.columns.map((column) => `${derived(column, summary.minutes)} AS m_${column}`);
  const outer = summary.columns.map((column) => `m_${column} AS ${column}`);
  return [
    `SELECT ${[...aliases, ...outer].join(", ")}`,
    `FROM (SELECT ${[...summary.keys, HISTOGRAM, ...inner].join(", ")}`,
    `  FROM ${summary.table ?? "metrics_minute"} WHERE ${summary.where} GROUP BY ${aliases.join(", ")})`,
    `ORDER BY ${summary.orderBy}${summary.limit === undefined ? "" : ` LIMIT ${summary.limit}`}`,
  ].join("\n");
}
