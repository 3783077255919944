import type { Resolution } from "../../model/metrics.ts";

/**
 * SQL for histograms stored as parallel lists (`histogram_buckets` ascending and unique,
 * `histogram_counts`). Table names come only from this fixed map, never from input.
 */
export const METRICS_TABLE: Record<Resolution, string> = {
  minute: "metrics_minute",
  hour: "metrics_hour",
  day: "metrics_day",
};

export const METRIC_KEY_COLUMNS = "scope, service, name, detect_point, component";

/** The union of both sides' buckets, ascending: the merged row's bucket list. */
function mergedBuckets(existing: string, incoming: string): string {
  return `list_sort(list_distinct(list_concat(${existing}.histogram_buckets, ${incoming}.histogram_buckets)))`;
}

/**
 * Element-wise sum of two sparse histograms, for adding into a stored row: for every bucket of the union,
 * the count found at that bucket's position on each side (0 where a side lacks the bucket).
 */
function mergedCounts(existing: string, incoming: string): string {
  const countAt = (side: string): string => `coalesce(${side}.histogram_counts[list_position(${side}.histogram_buckets, b)], 0)`;
  return `list_transform(${mergedBuckets(existing, incoming)}, lambda b: ${countAt(existing)} + ${countAt(incoming)})`;
}

const KEY_MATCH = [...METRIC_KEY_COLUMNS.split(", "), "time_ms"].map((column) => `stored.${column} = incoming.${column}`).join(" AND ");

/**
 * Adds every staged row into `table` whose key is stored there, histograms included. Together with
 * `insertNewSql` after it, in one transaction, this adds the whole batch.
 */
export function updateStoredSql(table: string, staging: string): string {
  const add = (column: string): string => `${column} = stored.${column} + incoming.${column}`;
  return `UPDATE ${table} AS stored SET
  ${["calls", "errors", "latency_sum_ms", "apdex_satisfied", "apdex_tolerating", "bytes_in", "bytes_out"].map(add).join(",\n  ")},
  histogram_counts = ${mergedCounts("stored", "incoming")},
  histogram_buckets = ${mergedBuckets("stored", "incoming")}
FROM ${staging} AS incoming WHERE ${KEY_MATCH}`;
}

/** Inserts every staged row whose key `table` does not hold. */
export function insertNewSql(table: string, staging: string): string {
  return `INSERT INTO ${table} SELECT * FROM ${staging} AS incoming WHERE NOT EXISTS (SELECT 1 FROM ${table} AS stored WHERE ${KEY_MATCH})`;
}

/**
 * A query body (for a WITH clause) that sums the histograms of `source` per key and `time_ms`, giving
 * back ascending `buckets` and their summed `counts`. Unnesting the two lists together keeps them paired.
 */
export function summedHistogramsSql(source: string): string {
  return `SELECT ${METRIC_KEY_COLUMNS}, time_ms, list(bucket ORDER BY bucket) AS buckets, list(count ORDER BY bucket) AS counts
FROM (
  SELECT ${METRIC_KEY_COLUMNS}, time_ms, bucket, sum(count) AS count
  FROM (SELECT ${METRIC_KEY_COLUMNS}, time_ms, unnest(histogram_buckets) AS bucket, unnest(histogram_counts) AS count FROM ${source})
  GROUP BY ${METRIC_KEY_COLUMNS}, time_ms, bucket
)
GROUP BY ${METRIC_KEY_COLUMNS}, time_ms`;
}
