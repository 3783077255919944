import type { ClickHouseClient, ClickHouseSettings } from "@clickhouse/client";
import type { ClickHouseCapabilities } from "./capabilities.ts";
import { bindQuery, type QueryParams } from "./query-binding.ts";
import { classifyClickHouseError } from "./server-errors.ts";

/**
 * The few ways the adapter talks to ClickHouse, with value binding chosen by the server's capabilities:
 * callers write `{name:Type}` placeholders and never build SQL from values themselves.
 */
export class ClickHouseConnection {
  private readonly readSettings: ClickHouseSettings;
  private readonly insertSettings: ClickHouseSettings;

  /** `throughDistributedTables`: the tables read and written are Distributed tables of a cluster. */
  constructor(
    private readonly client: ClickHouseClient,
    readonly capabilities: ClickHouseCapabilities,
    throughDistributedTables = false,
  ) {
    // 64-bit counters as JSON numbers rather than strings: counts stay far below 2^53.
    this.readSettings = { output_format_json_quote_64bit_integers: 0 };
    this.insertSettings = {};
    if (throughDistributedTables) {
      // `trace_id IN (SELECT ... FROM spans)` over Distributed tables is refused by default; GLOBAL runs the
      // subquery once on this node and ships its result to the shards, which is what the readers mean.
      this.readSettings.distributed_product_mode = "global";
      // An insert returns once every shard has its rows, rather than once they are queued on this node's
      // disk: a write the flusher saw succeed is readable, and a shard that is down fails the write (and
      // the flusher retries) instead of piling rows up on one node.
      this.insertSettings.insert_distributed_sync = 1;
    }
  }

  /** Failures say what they mean (server-errors.ts): an unreachable or overloaded server is a StorageUnavailableError. */
  async select<Row>(sql: string, params: QueryParams = {}): Promise<Row[]> {
    const bound = bindQuery(sql, params, this.capabilities.queryParameters);
    try {
      const result = await this.client.query({ ...bound, format: "JSONEachRow", clickhouse_settings: this.readSettings });
      return await result.json<Row>();
    } catch (error) {
      throw classifyClickHouseError(error);
    }
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    const bound = bindQuery(sql, params, this.capabilities.queryParameters);
    try {
      await this.client.command(bound);
    } catch (error) {
      throw classifyClickHouseError(error);
    }
  }

  /**
   * Fails with a MalformedBatchError when the server refuses the rows themselves. `deduplicate: false`
   * stops a Replicated table from dropping blocks equal to recent ones (repeated-blocks.ts); `queryId` names
   * the INSERT in system.processes.
   */
  async insert(table: string, rows: readonly object[], options: { deduplicate?: boolean; queryId?: string } = {}): Promise<void> {
    if (rows.length === 0) return;
    const settings: ClickHouseSettings = options.deduplicate === false ? { ...this.insertSettings, insert_deduplicate: 0 } : this.insertSettings;
    try {
      await this.client.insert({ table, values: [...rows], format: "JSONEachRow", clickhouse_settings: settings, ...(options.queryId === undefined ? {} : { query_id: options.queryId }) });
    } catch (error) {
      throw classifyClickHouseError(error);
    }
  }
}
