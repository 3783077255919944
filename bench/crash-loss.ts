/**
 * What kill -9 loses: a real `meshsight start` (DuckDB, and ClickHouse when a server is at hand) takes
 * ~1,000 Envoy ALS entries/s over real gRPC, is killed with SIGKILL `killAfterMs` into the traffic while the
 * client still sends, is started again on the same storage and stopped cleanly; the calls stored are then
 * compared with the calls the client wrote. Run once with the write-ahead buffer off and once on. The
 * client counts what it wrote into its socket, so "lost" includes what was in flight when the process died.
 * Prints, never asserts.
 *
 *   npx tsx bench/crash-loss.ts [killAfterMs=8000] [flushIntervalSeconds=10]
 * ClickHouse is a private server on loopback (test/services), stopped at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { simulateBookinfo } from "../collector/simulator/simulate-bookinfo.ts";
import { ClickHouseStorage } from "../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../core/storage/port.ts";
import { startClickHouse } from "../test/services/index.ts";
import { RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort } from "../test/cli/cli-process.ts";
import { printFigures } from "./collector-harness.ts";

const killAfterMs = Number(process.argv[2] ?? 8_000);
const flushIntervalSeconds = process.argv[3] ?? "10";
/** ~9 ALS entries per bookinfo request. */
const REQUESTS_PER_SECOND = 111;
const RETENTION = { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 3, spansDays: 7, probeResultsDays: 14 };
const logger = pino({ level: "silent" });

interface Store {
  name: string;
  env: Record<string, string>;
  open(): StorageAdapter;
  cleanup(): Promise<void>;
}

/** Calls stored per scope: `service` counts server-side entries, `relation` every entry (each is one leg). */
async function storedCalls(storage: StorageAdapter): Promise<{ service: number; relation: number }> {
  await storage.start();
  try {
    const now = Date.now();
    const sum = async (scope: "service" | "relation"): Promise<number> =>
      (await storage.queryMetrics({ scope, fromMs: now - 3_600_000, toMs: now + 3_600_000, resolution: "minute", groupByTime: false })).reduce((total, row) => total + row.calls, 0);
    return { service: await sum("service"), relation: await sum("relation") };
  } finally {
    await storage.close();
  }
}

/** Entries the ALS receiver had handed over, from GET /metrics. */
async function entriesTaken(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(/^meshsight_als_entries_total\{[^}]*\} (\S+)$/gm)].reduce((total, match) => total + Number(match[1]), 0);
}

async function measure(store: Store, isWalOn: boolean, dataDir: string): Promise<void> {
  const env = { ...RECEIVERS_ON_FREE_PORTS, ...store.env, MESHSIGHT_DATA_DIR: dataDir, MESHSIGHT_WAL: isWalOn ? "on" : "off", MESHSIGHT_KUBERNETES: "off", MESHSIGHT_FLUSH_INTERVAL_SECONDS: flushIntervalSeconds };
  const first = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], env);
  const base = `http://127.0.0.1:${await waitForHttpPort(first)}`;
  const target = `127.0.0.1:${await waitForListeningPort(first, "als")}`;
  const traffic = simulateBookinfo({ target, ratePerSecond: REQUESTS_PER_SECOND, durationMs: killAfterMs + 4_000, realTime: true });
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  const taken = await entriesTaken(base);
  first.child.kill("SIGKILL");
  await first.exited();
  const sent = await traffic;
  const second = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], env);
  await waitForHttpPort(second);
  await stopWith(second, "SIGTERM");
  const sentCalls = Object.values(sent.services).reduce((sum, counts) => sum + counts.calls, 0);
  const stored = await storedCalls(store.open());
  printFigures(`kill -9 after ${killAfterMs} ms at ~1,000 entries/s, flush every ${flushIntervalSeconds} s, ${store.name}, write-ahead buffer ${isWalOn ? "on" : "off"}`, {
    "entries written by the client": sent.entries.http + sent.entries.tcp,
    "entries the receiver had taken just before the kill": taken,
    "entries stored after restart (relation calls, one per entry)": stored.relation,
    "entries lost of those taken": taken - stored.relation,
    "server-side calls written by the client": sentCalls,
    "server-side calls stored after restart": stored.service,
  });
}

const duckdb = (dataDir: string): Store => ({
  name: "DuckDB",
  env: {},
  open: () => new DuckDbStorage({ path: join(dataDir, "meshsight.duckdb"), retention: RETENTION, logger }),
  cleanup: async () => undefined,
});
const clickhouse = (url: string) => (): Store => {
  const database = `meshsight_crash_${randomBytes(4).toString("hex")}`;
  return {
    name: "ClickHouse",
    env: { MESHSIGHT_CLICKHOUSE_URL: url, MESHSIGHT_CLICKHOUSE_DATABASE: database },
    open: () => new ClickHouseStorage({ url, database, retention: RETENTION, logger }),
    cleanup: async () => void (await fetch(`${url}/`, { method: "POST", body: `DROP DATABASE IF EXISTS ${database}` })),
  };
};

const clickhouseServer = await startClickHouse();
for (const storeIn of [duckdb, clickhouse(clickhouseServer.url)]) {
  for (const isWalOn of [false, true]) {
    const dataDir = await mkdtemp(join(tmpdir(), "meshsight-crash-loss-"));
    const store = storeIn(dataDir);
    try {
      await measure(store, isWalOn, dataDir);
    } finally {
      await store.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}
await clickhouseServer.stop();
