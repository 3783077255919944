/**
 * What a flush costs with and without the drain journal (docs/deploy.md, "Crash recovery"): the flusher
 * writes `rows` minute rows per flush (distinct endpoints, histograms of 8 buckets) to a fresh DuckDB file,
 * and to ClickHouse when a server is at hand, `rounds` times per mode, the modes alternating. Journaled
 * flushes also write each drain to disk (JSON, fsync) and tag each metric write with its id. Prints the
 * process CPU per flush (DuckDB's threads included) and rows per CPU-second; never asserts.
 *
 *   npx tsx bench/flush.ts [rows=20000] [rounds=5] [storages=duckdb,clickhouse]
 * ClickHouse is a private server on loopback (test/services), stopped at the end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Flusher } from "../collector/aggregate/flusher.ts";
import { DrainJournal } from "../collector/wal/drain-journal.ts";
import type { MinuteMetrics } from "../core/model/metrics.ts";
import { ClickHouseStorage } from "../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../core/storage/port.ts";
import { RejectCounter } from "../core/telemetry/rejects.ts";
import { startClickHouse } from "../test/services/index.ts";
import { printFigures } from "./collector-harness.ts";

const rowsPerFlush = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const storages = (process.argv[4] ?? "duckdb,clickhouse").split(",");
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const MINUTE_MS = 60_000;
const logger = pino({ level: "silent" });

function minuteRows(timeMs: number): MinuteMetrics[] {
  return Array.from({ length: rowsPerFlush }, (_, index) => ({
    scope: "endpoint",
    service: `svc-${index % 50}.default`,
    name: `GET:/api/${index}`,
    detectPoint: "server",
    component: "http",
    timeMs,
    calls: 100 + index,
    errors: index % 3,
    latencySumMs: 1234.5,
    apdexSatisfied: 90,
    apdexTolerating: 8,
    bytesIn: 1000,
    bytesOut: 5000,
    histogram: { buckets: [10, 20, 30, 40, 50, 60, 70, 80], counts: [1, 2, 3, 4, 5, 6, 7, 8] },
  }));
}

/** CPU seconds of this process (every thread) for each of `rounds` flushes through `flusher`. */
async function flushCpu(storage: StorageAdapter, journalDir: string | undefined, startMs: number): Promise<number[]> {
  let nowMs = startMs;
  const registry = new Registry();
  const journal = journalDir === undefined ? undefined : new DrainJournal(journalDir);
  journal?.open();
  const flusher = new Flusher({
    aggregator: { drain: () => ({ metrics: minuteRows(nowMs), entities: [] }) },
    sampler: { drain: () => [] },
    writer: storage,
    registry,
    rejects: new RejectCounter(registry, logger),
    logger,
    clock: () => nowMs,
    ...(journal === undefined ? {} : { checkpoint: { seal: () => [0], commit: () => undefined }, journal }),
  });
  const cpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    nowMs += MINUTE_MS;
    const before = process.cpuUsage();
    await flusher.flush();
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1e6);
  }
  if (flusher.pendingRows > 0) throw new Error(`storage did not take ${flusher.pendingRows} rows`);
  return cpu;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function measure(name: string, open: () => Promise<StorageAdapter>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-bench-flush-"));
  const figures: Record<string, string> = {};
  try {
    const cpu: Record<"plain" | "journaled", number[]> = { plain: [], journaled: [] };
    // Alternating, each on its own store and minutes, so neither mode always runs on the warmer machine.
    for (let pair = 0; pair < 2; pair++) {
      for (const mode of ["plain", "journaled"] as const) {
        const storage = await open();
        await storage.start();
        try {
          const startMs = Date.UTC(2026, 0, 1) + (pair * 2 + (mode === "plain" ? 0 : 1)) * rounds * MINUTE_MS;
          cpu[mode].push(...(await flushCpu(storage, mode === "plain" ? undefined : join(dir, `drains-${pair}`), startMs)));
        } finally {
          await storage.close();
        }
      }
    }
    for (const mode of ["plain", "journaled"] as const) {
      const perFlush = median(cpu[mode]);
      figures[`${mode}: CPU-s per flush (median of ${cpu[mode].length})`] = perFlush.toFixed(3);
      figures[`${mode}: rows per CPU-second`] = Math.round(rowsPerFlush / perFlush).toLocaleString("en-US");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printFigures(`Flush of ${rowsPerFlush.toLocaleString("en-US")} minute rows to ${name}, without and with the drain journal`, figures);
}

const dataDir = await mkdtemp(join(tmpdir(), "meshsight-bench-flush-db-"));
let store = 0;
if (storages.includes("duckdb")) await measure("DuckDB", async () => new DuckDbStorage({ path: join(dataDir, `${++store}.duckdb`), retention: RETENTION, logger }));
if (storages.includes("clickhouse")) {
  const server = await startClickHouse();
  try {
    await measure("ClickHouse", async () => new ClickHouseStorage({ url: server.url, database: `bench_flush_${++store}`, retention: RETENTION, logger }));
  } finally {
    await server.stop();
  }
}
await rm(dataDir, { recursive: true, force: true });
