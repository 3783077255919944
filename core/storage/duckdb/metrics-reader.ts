import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import type { Component, DetectPoint } from "../../model/dimensions.ts";
import type { MetricAggregate, MetricScope } from "../../model/metrics.ts";
import type { BusiestSeries, BusiestSeriesQuery, MetricsQuery, TopNOrder, TopNQuery } from "../port.ts";
import { integerParam, toNumber, toNumberList, toText } from "./database.ts";
import { METRIC_KEY_COLUMNS, METRICS_TABLE, summedHistogramsSql } from "./histogram-sql.ts";

const SUMMED_VALUES = `sum(calls) AS calls, sum(errors) AS errors, sum(latency_sum_ms) AS latency_sum_ms,
  sum(apdex_satisfied) AS apdex_satisfied, sum(apdex_tolerating) AS apdex_tolerating,
  sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out`;

const TOP_N_ORDER: Record<TopNOrder, string> = {
  calls: "calls",
  errors: "errors",
  latency_avg: "CASE WHEN calls > 0 THEN latency_sum_ms / calls ELSE 0 END",
};

const ENTITY_ORDER = "service, name, detect_point, component";

/** The tail of a series read: the rows of a `picked` CTE summed per key and bucket, histograms included. */
const SERIES_OF_PICKED = `totals AS (SELECT ${METRIC_KEY_COLUMNS}, time_ms, ${SUMMED_VALUES} FROM picked GROUP BY ${METRIC_KEY_COLUMNS}, time_ms),
histograms AS (${summedHistogramsSql("picked")})
SELECT * FROM totals LEFT JOIN histograms USING (${METRIC_KEY_COLUMNS}, time_ms)
ORDER BY ${ENTITY_ORDER}, time_ms`;

interface Filter {
  scope: MetricScope;
  fromMs: number;
  toMs: number;
  service?: string | undefined;
  name?: string | undefined;
  detectPoint?: DetectPoint | undefined;
}

/**
 * Builds the WHERE clause of a metrics read. Only placeholders are ever added to the SQL text; every
 * value, names included, is bound, so no name can change the statement.
 */
function whereClause(filter: Filter): { sql: string; values: DuckDBValue[] } {
  const values: DuckDBValue[] = [filter.scope, integerParam("fromMs", filter.fromMs, Math.floor), integerParam("toMs", filter.toMs, Math.ceil)];
  const conditions = ["scope = $1", "time_ms >= $2", "time_ms < $3"];
  const optional: [string, string | undefined][] = [
    ["service", filter.service],
    ["name", filter.name],
    ["detect_point", filter.detectPoint],
  ];
  for (const [column, value] of optional) {
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
  return { sql: conditions.join(" AND "), values };
}

/** Reads minute rows and their rollups; sums (histograms included) happen in SQL, not in Node. */
export class MetricsReader {
  constructor(private readonly connect: () => Promise<DuckDBConnection>) {}

  async queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]> {
    const where = whereClause(query);
    // Without a series, every row of the range folds into one bucket stamped with the range start.
    let bucket = "time_ms";
    if (!query.groupByTime) {
      where.values.push(integerParam("fromMs", query.fromMs, Math.floor));
      bucket = `$${where.values.length}::BIGINT`;
    }
    const sql = `WITH picked AS (
  SELECT * EXCLUDE (time_ms), ${bucket} AS time_ms FROM ${METRICS_TABLE[query.resolution]} WHERE ${where.sql}
),
${SERIES_OF_PICKED}`;
    return this.read(sql, where.values);
  }

  async busiestSeries(query: BusiestSeriesQuery): Promise<BusiestSeries> {
    const ranking = whereClause({ scope: query.scope, ...(query.rankedBy ?? query) });
    const table = METRICS_TABLE[query.resolution];
    const countSql = `SELECT count(*) AS entities FROM (SELECT DISTINCT service, name FROM ${table} WHERE ${ranking.sql})`;
    const values = [...ranking.values];
    const param = (value: DuckDBValue): string => `$${values.push(value)}`;
    const fromMs = param(integerParam("fromMs", query.fromMs, Math.floor));
    const toMs = param(integerParam("toMs", query.toMs, Math.ceil));
    const limit = param(integerParam("limit", Math.max(0, query.limit), Math.floor));
    // Without a series, every row of the range folds into one bucket stamped with the range start.
    const bucket = query.groupByTime ? "time_ms" : `${fromMs}::BIGINT`;
    // A relation counts by its client side unless only the server side reported (analysis-window.ts reads it so).
    const calls =
      query.scope === "relation"
        ? "CASE WHEN count(*) FILTER (WHERE detect_point <> 'server') = 0 THEN sum(calls) ELSE sum(calls) FILTER (WHERE detect_point <> 'server') END"
        : "sum(calls)";
    const sql = `WITH busiest AS (
  SELECT service, name FROM ${table} WHERE ${ranking.sql} GROUP BY service, name ORDER BY ${calls} DESC, service, name LIMIT ${limit}
),
picked AS (
  SELECT * EXCLUDE (time_ms), ${bucket} AS time_ms FROM ${table} SEMI JOIN busiest USING (service, name)
  WHERE scope = $1 AND time_ms >= ${fromMs} AND time_ms < ${toMs}
),
${SERIES_OF_PICKED}`;
    const [rows, entityCount] = await Promise.all([this.read(sql, values), this.readCount(countSql, ranking.values)]);
    return { rows, entityCount };
  }

  async topN(query: TopNQuery): Promise<MetricAggregate[]> {
    const where = whereClause(query);
    where.values.push(integerParam("fromMs", query.fromMs, Math.floor));
    const rangeStart = `$${where.values.length}::BIGINT`;
    where.values.push(integerParam("limit", Math.max(0, query.limit), Math.floor));
    const limit = `$${where.values.length}`;
    const sql = `WITH picked AS (
  SELECT * EXCLUDE (time_ms), ${rangeStart} AS time_ms FROM ${METRICS_TABLE[query.resolution]} WHERE ${where.sql}
),
totals AS (SELECT ${METRIC_KEY_COLUMNS}, time_ms, ${SUMMED_VALUES} FROM picked GROUP BY ${METRIC_KEY_COLUMNS}, time_ms),
ranked AS (SELECT *, ${TOP_N_ORDER[query.orderBy]} AS rank_value FROM totals ORDER BY rank_value DESC, ${ENTITY_ORDER} LIMIT ${limit}),
top_rows AS (SELECT picked.* FROM picked SEMI JOIN ranked USING (${METRIC_KEY_COLUMNS})),
histograms AS (${summedHistogramsSql("top_rows")})
SELECT * EXCLUDE (rank_value) FROM ranked LEFT JOIN histograms USING (${METRIC_KEY_COLUMNS}, time_ms)
ORDER BY rank_value DESC, ${ENTITY_ORDER}`;
    return this.read(sql, where.values);
  }

  private async readCount(sql: string, values: DuckDBValue[]): Promise<number> {
    const connection = await this.connect();
    try {
      const reader = await connection.runAndReadAll(sql, values);
      return toNumber(reader.getRowObjectsJS()[0]?.entities);
    } finally {
      connection.closeSync();
    }
  }

  private async read(sql: string, values: DuckDBValue[]): Promise<MetricAggregate[]> {
    const connection = await this.connect();
    try {
      const reader = await connection.runAndReadAll(sql, values);
      return reader.getRowObjectsJS().map(toAggregate);
    } finally {
      connection.closeSync();
    }
  }
}

function toAggregate(row: Record<string, unknown>): MetricAggregate {
  return {
    scope: toText(row.scope) as MetricScope,
    service: toText(row.service),
    name: toText(row.name),
    detectPoint: toText(row.detect_point) as DetectPoint | "",
    component: toText(row.component) as Component | "",
    timeMs: toNumber(row.time_ms),
    calls: toNumber(row.calls),
    errors: toNumber(row.errors),
    latencySumMs: toNumber(row.latency_sum_ms),
    apdexSatisfied: toNumber(row.apdex_satisfied),
    apdexTolerating: toNumber(row.apdex_tolerating),
    bytesIn: toNumber(row.bytes_in),
    bytesOut: toNumber(row.bytes_out),
    histogram: { buckets: toNumberList(row.buckets), counts: toNumberList(row.counts) },
  };
}
