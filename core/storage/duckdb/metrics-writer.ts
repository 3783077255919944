import type { DuckDBConnection, DuckDBType, DuckDBValue } from "@duckdb/node-api";
import { duckdbApi } from "./duckdb-api.ts";
import type { MinuteMetrics, Resolution } from "../../model/metrics.ts";
import { insertNewSql, METRICS_TABLE, updateStoredSql } from "./histogram-sql.ts";
import { rollUp, type RollupRow } from "./metric-rollup.ts";
const { BIGINT, DOUBLE, DuckDBDataChunk, VARCHAR } = duckdbApi;

const STAGING_TABLE = "metrics_staging_text";
/**
 * The staging rows as metrics_minute's shape: the histogram lists arrive as JSON text (`[3,17,40]`) and are
 * cast to lists inside DuckDB, since building a list value per row through @duckdb/node-api costs more
 * than the rest of the row (the same trick as span-store.ts's attribute maps).
 */
const FROM_STAGING = `(SELECT * EXCLUDE (histogram_buckets_json, histogram_counts_json),
  CAST(histogram_buckets_json AS USMALLINT[]) AS histogram_buckets, CAST(histogram_counts_json AS UBIGINT[]) AS histogram_counts
  FROM ${STAGING_TABLE})`;
/** Made anew for every batch, never emptied: see staging-table.ts for why. */
const CREATE_STAGING = `CREATE OR REPLACE TEMP TABLE ${STAGING_TABLE} AS SELECT * EXCLUDE (histogram_buckets, histogram_counts),
  ''::VARCHAR AS histogram_buckets_json, ''::VARCHAR AS histogram_counts_json FROM metrics_minute WITH NO DATA`;
const RESOLUTIONS: readonly Resolution[] = ["minute", "hour", "day"];
/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;

/** The staging table's columns in order (metrics_minute's, histograms as text), with how to fill each. */
const STAGING_SHAPE: [DuckDBType, (row: RollupRow) => DuckDBValue][] = [
  [VARCHAR, (row) => row.scope],
  [VARCHAR, (row) => row.service],
  [VARCHAR, (row) => row.name],
  [VARCHAR, (row) => row.detectPoint],
  [VARCHAR, (row) => row.component],
  [BIGINT, (row) => BigInt(row.timeMs)],
  [BIGINT, (row) => BigInt(row.calls)],
  [BIGINT, (row) => BigInt(row.errors)],
  [DOUBLE, (row) => row.latencySumMs],
  [BIGINT, (row) => BigInt(row.apdexSatisfied)],
  [BIGINT, (row) => BigInt(row.apdexTolerating)],
  [BIGINT, (row) => BigInt(row.bytesIn)],
  [BIGINT, (row) => BigInt(row.bytesOut)],
  [VARCHAR, (row) => listJson(row.histogram.buckets)],
  [VARCHAR, (row) => listJson(row.histogram.counts)],
];
const STAGING_TYPES = STAGING_SHAPE.map(([type]) => type);
const STAGING_COLUMNS = STAGING_SHAPE.map(([, value]) => value);

/**
 * Writes minute rows into the minute table and the hour and day rollups. Rows are summed per key in
 * memory first, appended to a connection-private staging table (the appender is far faster than
 * row-by-row INSERTs), then added into each table: an UPDATE adds into the stored keys, an INSERT adds the
 * others. The tables have no key index to upsert against (migrations/005_unkeyed_metrics.sql says why).
 * The caller runs `write` inside a transaction on a connection no one else writes on; a write's id goes
 * into metric_writes in that transaction, so the id is stored exactly when the rows are.
 */
export class MetricsWriter {
  constructor(private readonly connection: DuckDBConnection) {}

  /** Creates the staging table (temporary tables live per connection) at open, so a schema problem shows at start. */
  async prepare(): Promise<void> {
    await this.connection.run(CREATE_STAGING);
  }

  async write(rows: readonly MinuteMetrics[], writeId: number | undefined, nowMs: number): Promise<void> {
    // Each coarser rollup is summed from the finer one: fewer rows to fold than the raw batch.
    let summed: readonly MinuteMetrics[] = rows;
    for (const resolution of RESOLUTIONS) {
      const rolled = rollUp(summed, resolution);
      await this.connection.run(CREATE_STAGING);
      await this.stage(rolled);
      await this.connection.run(updateStoredSql(METRICS_TABLE[resolution], FROM_STAGING));
      await this.connection.run(insertNewSql(METRICS_TABLE[resolution], FROM_STAGING));
      summed = rolled;
    }
    // A split batch (write-guard.ts) writes its halves under the batch's one id.
    if (writeId !== undefined) await this.connection.run("INSERT INTO metric_writes VALUES ($1, $2) ON CONFLICT DO NOTHING", [BigInt(writeId), BigInt(nowMs)]);
  }

  private async stage(rows: readonly RollupRow[]): Promise<void> {
    const appender = await this.connection.createAppender(STAGING_TABLE, "main", "temp");
    try {
      // Whole columns per data chunk: a handful of native calls per 2048 rows instead of 15 per row.
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const slice = rows.slice(start, start + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(STAGING_TYPES, slice.length);
        chunk.setColumns(STAGING_COLUMNS.map((column) => slice.map(column)));
        appender.appendDataChunk(chunk);
      }
    } catch (error) {
      // A half-appended batch must not reach the table: drop it before closing (closing flushes).
      appender.clear();
      throw error;
    } finally {
      appender.closeSync();
    }
  }
}

/** `[1,2,3]`: counts are safe integers (the model's rows are validated before a write), so no BigInt is needed. */
function listJson(values: readonly number[]): string {
  return `[${values.join(",")}]`;
}
