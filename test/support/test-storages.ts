/** Fresh storages for end-to-end tests that run once per adapter: in-memory DuckDB, and a private database on the test ClickHouse. */
import type { Logger } from "pino";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { RetentionPolicy, StorageAdapter } from "../../core/storage/port.ts";
import { useClickHouse } from "../services/index.ts";

/** Keeps everything a test writes, whatever its simulated times. */
export const KEEP_EVERYTHING: RetentionPolicy = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

export interface OpenedStorage {
  storage: StorageAdapter;
  /** Drops what the test created; the storage itself is closed by the test. */
  cleanup: () => Promise<void>;
}

export function openDuckDb(logger: Logger): Promise<OpenedStorage> {
  return Promise.resolve({ storage: new DuckDbStorage({ path: ":memory:", retention: KEEP_EVERYTHING, logger }), cleanup: async () => {} });
}

/** A database of its own (named after `prefix`) on the shared test ClickHouse, dropped at cleanup. */
export async function openClickHouse(logger: Logger, prefix: string): Promise<OpenedStorage> {
  const server = await useClickHouse();
  const database = `${prefix}_${process.pid}_${Date.now()}`;
  return {
    storage: new ClickHouseStorage({ url: server.url, database, retention: KEEP_EVERYTHING, logger }),
    cleanup: async () => {
      await fetch(`${server.url}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, { method: "POST" });
      await server.stop();
    },
  };
}
