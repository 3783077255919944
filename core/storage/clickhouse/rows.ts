import type { EntityRecord } from "../../model/dimensions.ts";
import { LAST_BUCKET, mergeSparse, type SparseHistogram } from "../../model/histogram.ts";
import type { MinuteMetrics } from "../../model/metrics.ts";
import type { SampledRecord } from "../../model/sample.ts";

/**
 * Model records to ClickHouse JSONEachRow rows, checked first: a NaN or a negative count would
 * otherwise turn into a server error for the whole batch (or, worse, a wrapped UInt64), so a bad row is
 * reported by index and field before anything is sent.
 */

export class InvalidStorageRowError extends TypeError {
  override readonly name = "InvalidStorageRowError";
}

const MINUTE_MS = 60_000;
/** DateTime is a UInt32 of seconds. */
const MAX_TIME_MS = 4_294_967_295_000;

export function fail(what: string, index: number, field: string, value: unknown): never {
  throw new InvalidStorageRowError(`${what} row ${index}: ${field} is invalid (${shown(value)})`);
}

/** JSON where it can (strings show their quotes), else String(): a bigint must not turn one bad row into a crash. */
function shown(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function count(what: string, index: number, field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) fail(what, index, field, value);
  return value;
}

export function nonNegative(what: string, index: number, field: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) fail(what, index, field, value);
  return value;
}

function finite(what: string, index: number, field: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(what, index, field, value);
  return value;
}

export function text(what: string, index: number, field: string, value: string): string {
  if (typeof value !== "string") fail(what, index, field, value);
  return value;
}

export function timeMs(what: string, index: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIME_MS) fail(what, index, "timeMs", value);
  return value;
}

function histogram(index: number, value: SparseHistogram): SparseHistogram {
  if (!value || !Array.isArray(value.buckets) || !Array.isArray(value.counts) || value.buckets.length !== value.counts.length) {
    fail("metrics", index, "histogram", value);
  }
  value.buckets.forEach((bucket) => {
    if (!Number.isInteger(bucket) || bucket < 0 || bucket > LAST_BUCKET) fail("metrics", index, "histogram.buckets", bucket);
  });
  value.counts.forEach((bucketCount) => count("metrics", index, "histogram.counts", bucketCount));
  // Sorted, unique buckets: what sumMap and SummingMergeTree's Map summing expect to see.
  return mergeSparse(value);
}

export interface MetricsRow {
  time: number;
  scope: string;
  service: string;
  name: string;
  detect_point: string;
  component: string;
  calls: number;
  errors: number;
  latency_sum_ms: number;
  apdex_satisfied: number;
  apdex_tolerating: number;
  bytes_in: number;
  bytes_out: number;
  "histogramMap.bucket": number[];
  "histogramMap.count": number[];
  /**
   * The ids of the writes that added to the row, each counted 1: SummingMergeTree sums a `...Map` Nested
   * column by key, so rows merged from several writes keep every write's id (migration 008).
   */
  "writesMap.id"?: number[];
  "writesMap.count"?: number[];
}

/** toMetricsRow for the rows of one write, tagged with its id when it has one. */
export function metricsRowsOf(writeId: number | undefined): (row: MinuteMetrics, index: number) => MetricsRow {
  if (writeId === undefined) return toMetricsRow;
  return (row, index) => ({ ...toMetricsRow(row, index), "writesMap.id": [writeId], "writesMap.count": [1] });
}

export function toMetricsRow(row: MinuteMetrics, index: number): MetricsRow {
  const w = "metrics";
  const sparse = histogram(index, row.histogram);
  return {
    // Floored to its minute: rows of one minute must share a key to merge.
    time: Math.floor(timeMs(w, index, row.timeMs) / MINUTE_MS) * 60,
    scope: text(w, index, "scope", row.scope),
    service: text(w, index, "service", row.service),
    name: text(w, index, "name", row.name),
    detect_point: text(w, index, "detectPoint", row.detectPoint),
    component: text(w, index, "component", row.component),
    calls: count(w, index, "calls", row.calls),
    errors: count(w, index, "errors", row.errors),
    latency_sum_ms: nonNegative(w, index, "latencySumMs", row.latencySumMs),
    apdex_satisfied: count(w, index, "apdexSatisfied", row.apdexSatisfied),
    apdex_tolerating: count(w, index, "apdexTolerating", row.apdexTolerating),
    bytes_in: count(w, index, "bytesIn", row.bytesIn),
    bytes_out: count(w, index, "bytesOut", row.bytesOut),
    "histogramMap.bucket": sparse.buckets,
    "histogramMap.count": sparse.counts,
  };
}

export interface EntityRow {
  kind: string;
  service: string;
  name: string;
  layer: string;
  attributes: string;
  last_seen_ms: number;
}

export function toEntityRow(row: EntityRecord, index: number): EntityRow {
  const w = "entity";
  if (row.attributes === null || typeof row.attributes !== "object") fail(w, index, "attributes", row.attributes);
  for (const [key, value] of Object.entries(row.attributes)) text(w, index, `attributes.${key}`, value);
  return {
    kind: text(w, index, "kind", row.kind),
    service: text(w, index, "service", row.service),
    name: text(w, index, "name", row.name),
    layer: text(w, index, "layer", row.layer),
    attributes: JSON.stringify(row.attributes),
    last_seen_ms: timeMs(w, index, row.lastSeenMs),
  };
}

export interface EntityAttributeRow {
  kind: string;
  service: string;
  name: string;
  key: string;
  value: string;
  last_seen_ms: number;
}

/** An entity row and its attributes one per row (sql/007_entity_attributes.sql: keys merge, never blank). */
export function toEntityRows(row: EntityRecord, index: number): { entity: EntityRow; attributes: EntityAttributeRow[] } {
  const entity = toEntityRow(row, index);
  const { kind, service, name, last_seen_ms } = entity;
  return { entity, attributes: Object.entries(row.attributes).map(([key, value]) => ({ kind, service, name, key, value, last_seen_ms })) };
}

export interface SampleRow {
  time: number;
  time_ms: number;
  service: string;
  instance: string;
  endpoint: string;
  detect_point: string;
  peer_service: string;
  response_code: number;
  response_flags: string;
  is_error: number;
  latency_ms: number;
  reason: string;
  request_id: string;
  trace_id: string;
  raw: string;
}

export function toSampleRow(row: SampledRecord, index: number): SampleRow {
  const w = "sample";
  const ms = timeMs(w, index, row.timeMs);
  if (typeof row.isError !== "boolean") fail(w, index, "isError", row.isError);
  if (count(w, index, "responseCode", row.responseCode) > 4_294_967_295) fail(w, index, "responseCode", row.responseCode);
  return {
    time: Math.floor(ms / 1000),
    time_ms: ms,
    service: text(w, index, "service", row.service),
    instance: text(w, index, "instance", row.instance),
    endpoint: text(w, index, "endpoint", row.endpoint),
    detect_point: text(w, index, "detectPoint", row.detectPoint),
    peer_service: text(w, index, "peerService", row.peerService),
    response_code: row.responseCode,
    response_flags: text(w, index, "responseFlags", row.responseFlags),
    is_error: row.isError ? 1 : 0,
    // -1 is how records say "unknown latency"; kept as is.
    latency_ms: finite(w, index, "latencyMs", row.latencyMs),
    reason: text(w, index, "reason", row.reason),
    request_id: text(w, index, "requestId", row.requestId),
    trace_id: text(w, index, "traceId", row.traceId),
    raw: text(w, index, "raw", row.raw),
  };
}
