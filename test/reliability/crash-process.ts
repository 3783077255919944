/**
 * What the kill -9 tests share: a real meshsight process per run on a fresh store (DuckDB file or a fresh
 * ClickHouse database), its /metrics samples, and the calls stored against those the simulator sent.
 */
import { join } from "node:path";
import { pino } from "pino";
import type { SimulationReport } from "../../collector/simulator/traffic-report.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { RECEIVERS_ON_FREE_PORTS, runCli, type CliRun } from "../cli/cli-process.ts";
import { freshDatabaseName, rawClient } from "../core/storage/clickhouse/helpers.ts";
import { useClickHouse } from "../services/index.ts";
import { RETENTION } from "./storage-backends.ts";

const logger = pino({ level: "silent" });

export interface CrashStore {
  /** Settings pointing meshsight at the store; on ClickHouse through `url` when given (a relay in front). */
  env(url?: string): Record<string, string>;
  /** The ClickHouse server's own address; undefined on DuckDB. */
  serverUrl: string | undefined;
  /** Opens the store from the test, once meshsight is done with it. */
  open(): StorageAdapter;
  cleanup(): Promise<void>;
}

export interface CrashBackend {
  name: "duckdb" | "clickhouse";
  prepare(dataDir: string): Promise<CrashStore>;
}

export const CRASH_BACKENDS: readonly CrashBackend[] = [
  {
    name: "duckdb",
    prepare: async (dataDir) => ({
      env: () => ({}),
      serverUrl: undefined,
      open: () => new DuckDbStorage({ path: join(dataDir, "meshsight.duckdb"), retention: RETENTION, logger }),
      cleanup: async () => undefined,
    }),
  },
  {
    name: "clickhouse",
    prepare: async () => {
      const server = await useClickHouse();
      const database = freshDatabaseName("ms_wal");
      return {
        env: (url = server.url) => ({ MESHSIGHT_CLICKHOUSE_URL: url, MESHSIGHT_CLICKHOUSE_DATABASE: database }),
        serverUrl: server.url,
        open: () => new ClickHouseStorage({ url: server.url, database, retention: RETENTION, logger }),
        cleanup: async () => {
          const admin = rawClient(server.url);
          await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
          await admin.close();
          await server.stop();
        },
      };
    },
  },
];

/** meshsight's settings for a kill -9 run: receivers on free ports, the write-ahead buffer on in `dataDir`, no Kubernetes. */
export function walSettings(dataDir: string, flushIntervalSeconds: number): Record<string, string> {
  return {
    ...RECEIVERS_ON_FREE_PORTS,
    MESHSIGHT_DATA_DIR: dataDir,
    MESHSIGHT_WAL: "on",
    MESHSIGHT_KUBERNETES: "off",
    MESHSIGHT_FLUSH_INTERVAL_SECONDS: String(flushIntervalSeconds),
  };
}

/** Traces wait far longer than a test for their decision, and every trace is kept. */
export const TRACES_KEPT_AFTER_A_LONG_WAIT: Readonly<Record<string, string>> = { MESHSIGHT_TRACE_DECISION_WAIT_SECONDS: "600", MESHSIGHT_TRACE_SAMPLE_RATE: "1" };

/** Spans stored for `traceIds`, over all of them. */
export async function storedSpans(storage: StorageAdapter, traceIds: readonly string[]): Promise<number> {
  let spans = 0;
  for (const traceId of traceIds) spans += (await storage.getTrace(traceId)).length;
  return spans;
}

/** `meshsight start` on loopback with a free HTTP port, remembered in `runs` so an `after` hook can kill it. */
export function startMeshsight(env: Record<string, string>, runs: CliRun[]): CliRun {
  const run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], env);
  runs.push(run);
  return run;
}

/** A sample's value from GET /metrics (summed over its label sets, or those with `label`), 0 when absent. */
export async function scraped(base: string, metric: string, label = ""): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`, "gm"))) {
    if ((match[1] ?? "").includes(label)) sum += Number(match[2]);
  }
  return sum;
}

export function sentEntries(report: SimulationReport): number {
  return report.entries.http + report.entries.tcp;
}

/** Server-side calls by service, as the simulator counted them over every phase. */
export function expectedServiceCalls(reports: readonly SimulationReport[], posted: Record<string, number>): Record<string, number> {
  const calls: Record<string, number> = { ...posted };
  for (const report of reports) for (const [service, counts] of Object.entries(report.services)) calls[service] = (calls[service] ?? 0) + counts.calls;
  return calls;
}

export async function storedServiceCalls(storage: StorageAdapter): Promise<Record<string, number>> {
  const now = Date.now();
  const rows = await storage.queryMetrics({ scope: "service", fromMs: now - 3_600_000, toMs: now + 3_600_000, resolution: "minute", groupByTime: false });
  const calls: Record<string, number> = {};
  for (const row of rows) calls[row.service] = (calls[row.service] ?? 0) + row.calls;
  return calls;
}
