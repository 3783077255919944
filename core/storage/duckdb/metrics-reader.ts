import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import type { Component, DetectPoint } from "../../model/dimensions.ts";
import type { MetricAggregate, MetricScope } from "../../model/metrics.ts";
import type { MetricsQuery, TopNOrder, TopNQuery } from "../port.ts";
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
totals AS (SELECT ${METRIC_KEY_COLUMNS}, time_ms, ${SUMMED_VALUES} FROM picked GROUP BY ${METRIC_KEY_COLUMNS}, time_ms),
histograms AS (${summedHistogramsSql("picked")})
SELECT * FROM totals LEFT JOIN histograms USING (${METRIC_KEY_COLUMNS}, time_ms)
ORDER BY ${ENTITY_ORDER}, time_ms`;
    return this.read(sql, where.values);
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
