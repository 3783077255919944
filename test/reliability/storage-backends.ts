/**
 * Both storage adapters on real stores for the reliability tier: a fresh database on the test ClickHouse
 * (Debian's 18.16 under `npm test`) and a fresh DuckDB file. Either can be made stricter than the rows
 * meshsight writes, so a test can have the store itself refuse rows that passed every check before it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { pino } from "pino";
import { Registry } from "prom-client";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { RetentionPolicy, StorageAdapter } from "../../core/storage/port.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";
import { freshDatabaseName, rawClient } from "../core/storage/clickhouse/helpers.ts";
import { useClickHouse } from "../services/index.ts";

export const RETENTION: RetentionPolicy = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const logger = pino({ level: "silent" });

/** Longest trace id a restricted samples table takes. */
export const STRICT_TRACE_ID_CHARS = 32;

export interface OpenStore {
  storage: StorageAdapter;
  /** Holds the adapter's meshsight_rejected_total and meshsight_repaired_values_total. */
  registry: Registry;
  /**
   * Makes the samples table refuse a trace id longer than STRICT_TRACE_ID_CHARS (a schema stricter than
   * the rows) and returns the adapter to use from then on, started.
   */
  restrictSamples(): Promise<StorageAdapter>;
  close(): Promise<void>;
}

export interface Backend {
  name: "clickhouse" | "duckdb";
  open(): Promise<OpenStore>;
}

async function openClickHouse(): Promise<OpenStore> {
  const server = await useClickHouse();
  const database = freshDatabaseName("ms_reliability");
  const registry = new Registry();
  const storage = new ClickHouseStorage({ url: server.url, database, retention: RETENTION, logger, rejects: new RejectCounter(registry, logger) });
  await storage.start();
  const admin = rawClient(server.url);
  return {
    storage,
    registry,
    async restrictSamples() {
      // 18.16 refuses a longer value with code 131 (TOO_LARGE_STRING_SIZE), and with it the whole insert.
      await admin.command({ query: `ALTER TABLE ${database}.samples MODIFY COLUMN trace_id FixedString(${STRICT_TRACE_ID_CHARS})` });
      return storage;
    },
    async close() {
      await storage.close();
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
      await server.stop();
    },
  };
}

async function openDuckDb(): Promise<OpenStore> {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-reliability-"));
  const path = join(dir, "meshsight.duckdb");
  const registry = new Registry();
  const rejects = new RejectCounter(registry, logger);
  const open = async (): Promise<StorageAdapter> => {
    const adapter = new DuckDbStorage({ path, retention: RETENTION, logger, rejects });
    await adapter.start();
    return adapter;
  };
  let storage = await open();
  return {
    get storage() {
      return storage;
    },
    registry,
    async restrictSamples() {
      // The file is the adapter's while it is open: close it, recreate samples with a CHECK, reopen.
      await storage.close();
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      const [table] = (await connection.runAndReadAll("SELECT sql FROM duckdb_tables() WHERE table_name = 'samples'")).getRowObjectsJS();
      if (typeof table?.sql !== "string") throw new Error("DuckDB lists no samples table");
      const ddl = table.sql.replace(/\)\s*;?\s*$/, `, CHECK (length(trace_id) <= ${STRICT_TRACE_ID_CHARS}))`);
      await connection.run("DROP TABLE samples");
      await connection.run(ddl);
      connection.closeSync();
      instance.closeSync();
      storage = await open();
      return storage;
    },
    async close() {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS: readonly Backend[] = [
  { name: "clickhouse", open: openClickHouse },
  { name: "duckdb", open: openDuckDb },
];

/** A counter's value for one label set, 0 when never counted. */
export async function counted(registry: Registry, metric: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(metric)?.get())?.values ?? [];
  const match = values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected));
  return match?.value ?? 0;
}

/** Every reject counted for a source, by reason. */
export async function rejectsOf(registry: Registry, source: string): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric("meshsight_rejected_total")?.get())?.values ?? [];
  return Object.fromEntries(values.filter((value) => value.labels.source === source).map((value) => [String(value.labels.reason), value.value]));
}
