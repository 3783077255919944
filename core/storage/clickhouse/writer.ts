import type { EntityRecord } from "../../model/dimensions.ts";
import type { MinuteMetrics } from "../../model/metrics.ts";
import type { ProbeResult } from "../../model/probe.ts";
import type { SampledRecord } from "../../model/sample.ts";
import type { Span } from "../../model/span.ts";
import type { StorageWriter } from "../port.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { InvalidStorageRowError, toEntityRow, toMetricsRow, toSampleRow } from "./rows.ts";
import { toProbeResultRow, toSpanRow } from "./span-rows.ts";
import { identifier } from "./sql-literals.ts";

/** Told about rows refused as invalid: how many, why, and the first problem found. */
export type InvalidRowsHandler = (reason: string, rejected: number, firstProblem: string) => void;

/**
 * Inserts as JSONEachRow. Each call is one INSERT (one part on the server), so callers batch. Rows are
 * checked one by one before sending: an invalid row is refused and reported, the valid rows around it
 * are written, as the DuckDB adapter does. Failing the whole batch instead would make a caller that
 * retries (the flusher) retry a batch that can never succeed.
 * Hour and day rollups are filled by the server's materialized views, not here.
 */
export class ClickHouseWriter implements StorageWriter {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
    private readonly onInvalidRows: InvalidRowsHandler,
  ) {
    this.db = identifier(database);
  }

  async writeMetrics(rows: readonly MinuteMetrics[]): Promise<void> {
    await this.insert("metrics_minute", this.convert(rows, toMetricsRow, "invalid_metric_row"));
  }

  async writeEntities(rows: readonly EntityRecord[]): Promise<void> {
    await this.insert("entities", this.convert(rows, toEntityRow, "invalid_entity_row"));
  }

  async writeSamples(rows: readonly SampledRecord[]): Promise<void> {
    await this.insert("samples", this.convert(rows, toSampleRow, "invalid_sample_row"));
  }

  /** Duplicates are left to the table (ReplacingMergeTree) and to reads, which see each span once. */
  async writeSpans(spans: readonly Span[]): Promise<void> {
    await this.insert("spans", this.convert(spans, toSpanRow, "invalid_span_row"));
  }

  async writeProbeResults(rows: readonly ProbeResult[]): Promise<void> {
    await this.insert("probe_results", this.convert(rows, toProbeResultRow, "invalid_probe_result_row"));
  }

  private async insert(table: string, rows: readonly object[]): Promise<void> {
    if (rows.length > 0) await this.connection.insert(`${this.db}.${table}`, rows);
  }

  private convert<Row, Out>(rows: readonly Row[], toRow: (row: Row, index: number) => Out, reason: string): Out[] {
    const valid: Out[] = [];
    let rejected = 0;
    let firstProblem = "";
    rows.forEach((row, index) => {
      try {
        valid.push(toRow(row, index));
      } catch (error) {
        if (!(error instanceof InvalidStorageRowError)) throw error;
        rejected++;
        firstProblem ||= error.message;
      }
    });
    if (rejected > 0) this.onInvalidRows(reason, rejected, firstProblem);
    return valid;
  }
}
