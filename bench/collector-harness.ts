/**
 * Shared by the end-to-end collector benchmarks: the collector exactly as `meshsight start` builds it, on
 * in-memory DuckDB, and the figures every benchmark prints. CPU is this process's own (user + system),
 * so load generators run in other processes and do not count.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Registry } from "prom-client";
import type { Collector } from "../collector/collector.ts";
import { tuneHeapGrowthForCollector } from "../collector/heap-growth.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import { startTestCollector } from "../test/support/test-collector.ts";

export interface RunningCollector {
  collector: Collector;
  registry: Registry;
  stop(): Promise<void>;
}

/**
 * The collector as the end-to-end tests run it (test/support/test-collector.ts), flushing every 5 s; `wal`
 * turns the write-ahead buffer on, in a temporary directory.
 */
export async function startBenchCollector(options: { wal?: boolean } = {}): Promise<RunningCollector> {
  tuneHeapGrowthForCollector(process.execArgv);
  const logger = pino({ level: "warn" });
  const storage = new DuckDbStorage({ path: ":memory:", retention: { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 3, spansDays: 7, probeResultsDays: 14 }, logger });
  await storage.start();
  const walDir = options.wal === true ? await mkdtemp(join(tmpdir(), "meshsight-bench-wal-")) : undefined;
  const wal = walDir === undefined ? {} : { wal: "on", walDir };
  const running = await startTestCollector({ storage, logger, settings: { flushIntervalSeconds: 5, ...wal } });
  return {
    collector: running.collector,
    registry: running.registry,
    async stop() {
      await running.stop();
      await storage.close();
      if (walDir !== undefined) await rm(walDir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds this process used since `since` (from process.cpuUsage()). */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

export async function rejectedTotal(registry: RunningCollector["registry"]): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "meshsight_rejected_total");
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

/** How callers of server-side calls were found, as `metadata, address, mTLS identity / request id`. */
export async function callersNamed(registry: RunningCollector["registry"]): Promise<string> {
  const metrics = await registry.getMetricsAsJSON();
  const valuesOf = (name: string) => metrics.find((m) => m.name === name)?.values ?? [];
  const named = (by: string): number => valuesOf("meshsight_callers_named_total").find((value) => value.labels["by"] === by)?.value ?? 0;
  const paired = valuesOf("meshsight_calls_attributed_by_request_id_total")[0]?.value ?? 0;
  return `${named("peer_metadata")}, ${named("address")}, ${named("mtls_identity")} / ${paired}`;
}

export function printFigures(title: string, figures: Record<string, string | number>): void {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`;
  process.stdout.write(`${title}\n  machine: ${machine}\n`);
  for (const [name, value] of Object.entries(figures)) process.stdout.write(`  ${name}: ${typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 1 }) : value}\n`);
  process.stdout.write(`  max RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
}
