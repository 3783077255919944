import type { EntityRecord } from "../../model/dimensions.ts";
import { RESOLUTION_MS, type MinuteMetrics } from "../../model/metrics.ts";
import type { ProbeResult } from "../../model/probe.ts";
import type { SampledRecord } from "../../model/sample.ts";
import type { Span } from "../../model/span.ts";
import { StorageUnavailableError, type StorageWriter } from "../port.ts";
import type { WriteGuard } from "../write-guard.ts";
import type { ClickHouseConnection } from "./connection.ts";
import type { StoredBlocks } from "./repeated-blocks.ts";
import { metricsRowsOf, toEntityRows, toSampleRow, type MetricsRow } from "./rows.ts";
import { toProbeResultRow, toSpanRow } from "./span-rows.ts";
import { identifier } from "./sql-literals.ts";

const DAY_MS = RESOLUTION_MS.day;

/** The INSERT of a metric write runs under this query id, so system.processes tells whether it still runs. */
function metricWriteQueryId(writeId: number): string {
  return `meshsight-metric-write-${writeId}`;
}

/**
 * Inserts as JSONEachRow. Each call is one INSERT (one part on the server), so callers batch. Every
 * write goes through the WriteGuard: values made storable, rows checked one by one before sending (an
 * invalid row is refused and counted, the valid rows around it are written), and a batch the server
 * still refuses as malformed is split until the refused rows stand alone. Failing the whole batch
 * instead would make a caller that retries (the flusher) retry a batch that can never succeed.
 * Hour and day rollups are filled by the server's materialized views, not here.
 */
export class ClickHouseWriter implements StorageWriter {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
    private readonly guard: WriteGuard,
    /** On Replicated tables: the metric blocks stored, so a repeat of them is not dropped as a retry. */
    private readonly storedBlocks?: StoredBlocks,
  ) {
    this.db = identifier(database);
  }

  /**
   * With a write id, the rows carry it in `writesMap` and the INSERT runs under a query id derived from it:
   * one INSERT of one day's rows, fewer than max_insert_block_size, is one block and so one part, which
   * the server stores whole or not at all, id included.
   */
  async writeMetrics(rows: readonly MinuteMetrics[], writeId?: number): Promise<void> {
    await this.guard.write("metric", rows, metricsRowsOf(writeId), (converted) => this.insertMetrics(converted, writeId));
  }

  /**
   * Looks for the id in the write's day; the day's partition is read, not the table. An INSERT the process
   * sent before it died may still be running on the server (its rows arriving): until it ends, no answer.
   */
  async isMetricWriteStored(writeId: number, day: number): Promise<boolean> {
    const [running] = await this.connection.select<{ count: number }>("SELECT count() AS count FROM system.processes WHERE query_id = {queryId:String}", {
      queryId: metricWriteQueryId(writeId),
    });
    if (Number(running?.count ?? 0) > 0) throw new StorageUnavailableError(`metric write ${writeId} is still running on the server`);
    const dayStart = Math.floor(day / DAY_MS) * (DAY_MS / 1000);
    const [stored] = await this.connection.select<{ count: number }>(
      `SELECT count() AS count FROM ${this.db}.metrics_minute
       WHERE time >= toDateTime({from:UInt32}) AND time < toDateTime({to:UInt32}) AND has(writesMap.id, {writeId:UInt64})`,
      { from: dayStart, to: dayStart + DAY_MS / 1000, writeId },
    );
    return Number(stored?.count ?? 0) > 0;
  }

  /**
   * Only minute metrics can legitimately repeat a block (partial sums of an open minute): samples and probe
   * results carry their own times and ids, and spans and entities keep one row per key anyway.
   */
  private async insertMetrics(rows: readonly MetricsRow[], writeId: number | undefined): Promise<void> {
    const queryId = writeId === undefined ? {} : { queryId: metricWriteQueryId(writeId) };
    const stored = this.storedBlocks;
    if (stored === undefined) return await this.connection.insert(`${this.db}.metrics_minute`, rows, queryId);
    const blocks = stored.blocksOf("metrics_minute", rows);
    await this.connection.insert(`${this.db}.metrics_minute`, rows, { deduplicate: !stored.repeatsStored(blocks), ...queryId });
    stored.remember(blocks);
  }

  async writeEntities(rows: readonly EntityRecord[]): Promise<void> {
    await this.guard.write("entity", rows, toEntityRows, async (converted) => {
      // Attributes first: a retry after a failure between the two inserts writes both again, and both
      // tables keep one row per key, so nothing doubles and no entity is listed without its attributes.
      const attributes = converted.flatMap((row) => row.attributes);
      if (attributes.length > 0) await this.insert("entity_attributes", attributes);
      await this.insert("entities", converted.map((row) => row.entity));
    });
  }

  async writeSamples(rows: readonly SampledRecord[]): Promise<void> {
    await this.guard.write("sample", rows, toSampleRow, (converted) => this.insert("samples", converted));
  }

  /** Duplicates are left to the table (ReplacingMergeTree) and to reads, which see each span once. */
  async writeSpans(spans: readonly Span[]): Promise<void> {
    await this.guard.write("span", spans, toSpanRow, (converted) => this.insert("spans", converted));
  }

  async writeProbeResults(rows: readonly ProbeResult[]): Promise<void> {
    await this.guard.write("probe_result", rows, toProbeResultRow, (converted) => this.insert("probe_results", converted));
  }

  private insert(table: string, rows: readonly object[]): Promise<void> {
    return this.connection.insert(`${this.db}.${table}`, rows);
  }
}
