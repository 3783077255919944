import type { EntityRecord, Layer } from "../../model/dimensions.ts";
import type { MetricAggregate, MetricKey, Resolution } from "../../model/metrics.ts";
import type { SampledRecord, SampleReason } from "../../model/sample.ts";
import { mergedAttributes } from "../entity-attributes.ts";
import type { BusiestSeries, BusiestSeriesQuery, EntityQuery, MetricsQuery, SampleQuery, StorageReader, TopNOrder, TopNQuery } from "../port.ts";
import type { ClickHouseConnection } from "./connection.ts";
import type { QueryParams } from "./query-binding.ts";
import type { SampleRow as InsertedSampleRow } from "./rows.ts";
import { identifier, integerLiteral } from "./sql-literals.ts";

/**
 * Reads. Background merges are eventual, so every read aggregates (GROUP BY with sum / sumMap /
 * argMax) and never trusts that a key has one row. Values are always placeholders, never SQL text.
 */

const TABLE_BY_RESOLUTION: Record<Resolution, string> = { minute: "metrics_minute", hour: "metrics_hour", day: "metrics_day" };
const METRIC_KEY = "scope, service, name, detect_point, component";
/** Aliases differ from column names: ClickHouse resolves a name to its alias everywhere in the query. */
const METRIC_SUMS = `sum(calls) AS sum_calls, sum(errors) AS sum_errors, sum(latency_sum_ms) AS sum_latency_sum_ms,
  sum(apdex_satisfied) AS sum_apdex_satisfied, sum(apdex_tolerating) AS sum_apdex_tolerating,
  sum(bytes_in) AS sum_bytes_in, sum(bytes_out) AS sum_bytes_out,
  sumMap(histogramMap.bucket, histogramMap.count) AS sum_histogram,
  tupleElement(sum_histogram, 1) AS histogram_buckets, tupleElement(sum_histogram, 2) AS histogram_counts`;
const TOP_N_ORDER: Record<TopNOrder, string> = { calls: "sum_calls", errors: "sum_errors", latency_avg: "latency_avg" };
/** Upper bound on rows one read returns, whatever the caller asks: results are held in memory. */
export const MAX_READ_ROWS = 10_000;
const MAX_TIME_MS = 4_294_967_295_000;

interface MetricsRow {
  scope: string;
  service: string;
  name: string;
  detect_point: string;
  component: string;
  time_ms?: number;
  sum_calls: number;
  sum_errors: number;
  sum_latency_sum_ms: number;
  sum_apdex_satisfied: number;
  sum_apdex_tolerating: number;
  sum_bytes_in: number;
  sum_bytes_out: number;
  histogram_buckets: number[];
  histogram_counts: number[];
}

interface EntityRow {
  kind: string;
  service: string;
  name: string;
  latest_layer: string;
  latest_attributes: string;
  latest_seen_ms: number;
  attribute_keys: string[];
  attribute_values: string[];
}

/** Samples as read back: the insert row without its day-partition `time` column. */
type SampleRow = Omit<InsertedSampleRow, "time">;

/** A query's [fromMs, toMs) as whole milliseconds inside what DateTime can hold; null when empty. */
export function msRange(fromMs: number, toMs: number): { from: number; to: number } | null {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new RangeError(`time range must be finite numbers, got [${fromMs}, ${toMs})`);
  const from = Math.min(Math.max(Math.ceil(fromMs), 0), MAX_TIME_MS);
  const to = Math.min(Math.max(Math.ceil(toMs), 0), MAX_TIME_MS);
  return from < to ? { from, to } : null;
}

/**
 * A validated row limit. It goes into SQL as a literal even where the server binds parameters:
 * parameters in LIMIT came to ClickHouse much later than parameters elsewhere.
 */
export function rowLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  return Math.min(limit, MAX_READ_ROWS);
}

function toAggregate(row: MetricsRow, timeMs: number): MetricAggregate {
  return {
    scope: row.scope as MetricKey["scope"],
    service: row.service,
    name: row.name,
    detectPoint: row.detect_point as MetricKey["detectPoint"],
    component: row.component as MetricKey["component"],
    timeMs,
    calls: Number(row.sum_calls),
    errors: Number(row.sum_errors),
    latencySumMs: Number(row.sum_latency_sum_ms),
    apdexSatisfied: Number(row.sum_apdex_satisfied),
    apdexTolerating: Number(row.sum_apdex_tolerating),
    bytesIn: Number(row.sum_bytes_in),
    bytesOut: Number(row.sum_bytes_out),
    histogram: { buckets: row.histogram_buckets.map(Number), counts: row.histogram_counts.map(Number) },
  };
}

function parseAttributes(json: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export class ClickHouseReader implements Pick<StorageReader, "queryMetrics" | "busiestSeries" | "topN" | "listEntities" | "querySamples"> {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
  ) {
    this.db = identifier(database);
  }

  /** WHERE for metric tables; `time` holds the bucket start, so whole seconds at or after ceil(ms / 1000). */
  /** `rangeNames`: the range's placeholder names, so two ranges can bind in one statement (busiestSeries). */
  private metricFilter(
    query: MetricsQuery | TopNQuery | BusiestSeriesQuery,
    range: { from: number; to: number },
    rangeNames = { from: "fromSec", to: "toSec" },
  ): { where: string; params: QueryParams } {
    const conditions = ["scope = {scope:String}", `time >= toDateTime({${rangeNames.from}:UInt32})`, `time < toDateTime({${rangeNames.to}:UInt32})`];
    const params: Record<string, string | number> = {
      scope: query.scope,
      [rangeNames.from]: Math.ceil(range.from / 1000),
      [rangeNames.to]: Math.ceil(range.to / 1000),
    };
    if ("service" in query && query.service !== undefined) {
      conditions.push("service = {service:String}");
      params.service = query.service;
    }
    if ("name" in query && query.name !== undefined) {
      conditions.push("name = {name:String}");
      params.name = query.name;
    }
    if ("detectPoint" in query && query.detectPoint !== undefined) {
      conditions.push("detect_point = {detectPoint:String}");
      params.detectPoint = query.detectPoint;
    }
    return { where: conditions.join(" AND "), params };
  }

  async queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]> {
    const range = msRange(query.fromMs, query.toMs);
    if (!range) return [];
    const { where, params } = this.metricFilter(query, range);
    const table = identifier(TABLE_BY_RESOLUTION[query.resolution]);
    const sql = query.groupByTime
      ? `SELECT ${METRIC_KEY}, toUInt64(toUnixTimestamp(time)) * 1000 AS time_ms, ${METRIC_SUMS}
         FROM ${this.db}.${table} WHERE ${where}
         GROUP BY ${METRIC_KEY}, time ORDER BY service, name, detect_point, component, time LIMIT ${MAX_READ_ROWS}`
      : `SELECT ${METRIC_KEY}, ${METRIC_SUMS}
         FROM ${this.db}.${table} WHERE ${where}
         GROUP BY ${METRIC_KEY} ORDER BY service, name, detect_point, component LIMIT ${MAX_READ_ROWS}`;
    const rows = await this.connection.select<MetricsRow>(sql, params);
    return rows.map((row) => toAggregate(row, row.time_ms === undefined ? query.fromMs : Number(row.time_ms)));
  }

  async busiestSeries(query: BusiestSeriesQuery): Promise<BusiestSeries> {
    const range = msRange(query.fromMs, query.toMs);
    const rankRange = query.rankedBy === undefined ? range : msRange(query.rankedBy.fromMs, query.rankedBy.toMs);
    if (!range || !rankRange) return { rows: [], entityCount: 0 };
    const { where, params } = this.metricFilter(query, range);
    const ranking = this.metricFilter(query, rankRange, { from: "rankFromSec", to: "rankToSec" });
    const bound = { ...params, ...ranking.params };
    const from = `${this.db}.${identifier(TABLE_BY_RESOLUTION[query.resolution])}`;
    const limit = integerLiteral(Math.max(0, Math.floor(query.limit)), "UInt32");
    // A relation counts by its client side unless only the server side reported (analysis-window.ts reads it so).
    const calls = query.scope === "relation" ? "if(countIf(detect_point != 'server') = 0, sum(calls), sumIf(calls, detect_point != 'server'))" : "sum(calls)";
    // GLOBAL: with a cluster the busiest are chosen over every shard once, not per shard.
    const busiest = `SELECT service, name FROM ${from} WHERE ${ranking.where} GROUP BY service, name ORDER BY ${calls} DESC, service, name LIMIT ${limit}`;
    const series = query.groupByTime ? ["toUInt64(toUnixTimestamp(time)) * 1000 AS time_ms, ", ", time"] : ["", ""];
    const [rows, counted] = await Promise.all([
      this.connection.select<MetricsRow>(
        `SELECT ${METRIC_KEY}, ${series[0]}${METRIC_SUMS}
         FROM ${from} WHERE ${where} AND (service, name) GLOBAL IN (${busiest})
         GROUP BY ${METRIC_KEY}${series[1]} ORDER BY service, name, detect_point, component${series[1]}`,
        bound,
      ),
      this.connection.select<{ entities: string }>(`SELECT uniqExact(service, name) AS entities FROM ${from} WHERE ${ranking.where}`, bound),
    ]);
    return { rows: rows.map((row) => toAggregate(row, row.time_ms === undefined ? query.fromMs : Number(row.time_ms))), entityCount: Number(counted[0]?.entities ?? 0) };
  }

  async topN(query: TopNQuery): Promise<MetricAggregate[]> {
    const range = msRange(query.fromMs, query.toMs);
    const limit = rowLimit(query.limit);
    if (!range || limit === 0) return [];
    const order = TOP_N_ORDER[query.orderBy];
    if (order === undefined) throw new RangeError(`unknown topN order ${String(query.orderBy)}`);
    const { where, params } = this.metricFilter(query, range);
    const table = identifier(TABLE_BY_RESOLUTION[query.resolution]);
    const rows = await this.connection.select<MetricsRow>(
      `SELECT ${METRIC_KEY}, ${METRIC_SUMS}, if(sum_calls = 0, 0, sum_latency_sum_ms / sum_calls) AS latency_avg
       FROM ${this.db}.${table} WHERE ${where}
       GROUP BY ${METRIC_KEY} ORDER BY ${order} DESC, service, name, detect_point, component LIMIT ${integerLiteral(limit, "UInt32")}`,
      params,
    );
    return rows.map((row) => toAggregate(row, query.fromMs));
  }

  async listEntities(query: EntityQuery): Promise<EntityRecord[]> {
    const limit = rowLimit(query.limit);
    if (limit === 0) return [];
    if (!Number.isFinite(query.seenSinceMs)) throw new RangeError(`seenSinceMs must be a finite number, got ${query.seenSinceMs}`);
    const params: Record<string, string | number> = {
      kind: query.kind,
      seenSince: Math.min(Math.max(Math.ceil(query.seenSinceMs), 0), Number.MAX_SAFE_INTEGER),
    };
    let serviceFilter = "";
    if (query.service !== undefined) {
      serviceFilter = "AND service = {service:String}";
      params.service = query.service;
    }
    // Per-key attributes join the entity rows (core/storage/entity-attributes.ts); ANY LEFT JOIN ... USING
    // is the join form 18.16 has, and keeps entities that have no per-key rows (empty arrays then).
    const rows = await this.connection.select<EntityRow>(
      `SELECT kind, service, name, latest_layer, latest_attributes, latest_seen_ms, attribute_keys, attribute_values
       FROM (
         SELECT kind, service, name, argMax(layer, last_seen_ms) AS latest_layer,
           argMax(attributes, last_seen_ms) AS latest_attributes, max(last_seen_ms) AS latest_seen_ms
         FROM ${this.db}.entities WHERE kind = {kind:String} ${serviceFilter}
         GROUP BY kind, service, name HAVING latest_seen_ms >= {seenSince:UInt64}
       ) ANY LEFT JOIN (
         SELECT kind, service, name, groupArray(key) AS attribute_keys, groupArray(latest_value) AS attribute_values
         FROM (
           SELECT kind, service, name, key, argMax(value, last_seen_ms) AS latest_value
           FROM ${this.db}.entity_attributes WHERE kind = {kind:String} ${serviceFilter}
           GROUP BY kind, service, name, key
         ) GROUP BY kind, service, name
       ) USING (kind, service, name)
       ORDER BY service, name LIMIT ${integerLiteral(limit, "UInt32")}`,
      params,
    );
    return rows.map((row) => ({
      kind: row.kind as EntityRecord["kind"],
      service: row.service,
      name: row.name,
      layer: row.latest_layer as Layer,
      attributes: mergedAttributes(parseAttributes(row.latest_attributes), row.attribute_keys, row.attribute_values),
      lastSeenMs: Number(row.latest_seen_ms),
    }));
  }

  async querySamples(query: SampleQuery): Promise<SampledRecord[]> {
    const range = msRange(query.fromMs, query.toMs);
    const limit = rowLimit(query.limit);
    if (!range || limit === 0) return [];
    // `time` (seconds) lets the server skip partitions and granules; `time_ms` makes the bounds exact.
    const conditions = [
      "time >= toDateTime({fromSec:UInt32})",
      "time < toDateTime({toSec:UInt32})",
      "time_ms >= {fromMs:UInt64}",
      "time_ms < {toMs:UInt64}",
    ];
    const params: Record<string, string | number> = {
      fromSec: Math.floor(range.from / 1000),
      toSec: Math.ceil(range.to / 1000),
      fromMs: range.from,
      toMs: range.to,
    };
    const optional: Array<[column: string, param: string, value: string | undefined]> = [
      ["service", "service", query.service],
      ["endpoint", "endpoint", query.endpoint],
      ["trace_id", "traceId", query.traceId],
    ];
    for (const [column, param, value] of optional) {
      if (value === undefined) continue;
      conditions.push(`${column} = {${param}:String}`);
      params[param] = value;
    }
    if (query.onlyErrors === true) conditions.push("is_error = 1");
    const rows = await this.connection.select<SampleRow>(
      `SELECT time_ms, service, instance, endpoint, detect_point, peer_service, response_code, response_flags,
         is_error, latency_ms, reason, request_id, trace_id, raw
       FROM ${this.db}.samples WHERE ${conditions.join(" AND ")}
       ORDER BY time_ms DESC, request_id LIMIT ${integerLiteral(limit, "UInt32")}`,
      params,
    );
    return rows.map((row) => ({
      timeMs: Number(row.time_ms),
      service: row.service,
      instance: row.instance,
      endpoint: row.endpoint,
      detectPoint: row.detect_point as SampledRecord["detectPoint"],
      peerService: row.peer_service,
      responseCode: Number(row.response_code),
      responseFlags: row.response_flags,
      isError: Number(row.is_error) === 1,
      latencyMs: Number(row.latency_ms),
      reason: row.reason as SampleReason,
      requestId: row.request_id,
      traceId: row.trace_id,
      raw: row.raw,
    }));
  }
}
