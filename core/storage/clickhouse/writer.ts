import type { EntityRecord } from "../../model/dimensions.ts";
import type { MinuteMetrics } from "../../model/metrics.ts";
import type { SampledRecord } from "../../model/sample.ts";
import type { StorageWriter } from "../port.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { toEntityRow, toMetricsRow, toSampleRow } from "./rows.ts";
import { identifier } from "./sql-literals.ts";

/**
 * Inserts as JSONEachRow. Each call is one INSERT (one part on the server), so callers batch; a batch
 * is checked whole before sending, so an invalid row rejects the call without a partial write.
 * Hour and day rollups are filled by the server's materialized views, not here.
 */
export class ClickHouseWriter implements StorageWriter {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
  ) {
    this.db = identifier(database);
  }

  async writeMetrics(rows: readonly MinuteMetrics[]): Promise<void> {
    await this.connection.insert(`${this.db}.metrics_minute`, rows.map(toMetricsRow));
  }

  async writeEntities(rows: readonly EntityRecord[]): Promise<void> {
    await this.connection.insert(`${this.db}.entities`, rows.map(toEntityRow));
  }

  async writeSamples(rows: readonly SampledRecord[]): Promise<void> {
    await this.connection.insert(`${this.db}.samples`, rows.map(toSampleRow));
  }
}
