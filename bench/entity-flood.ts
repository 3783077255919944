/**
 * An entity flood: N distinct services (one instance and one endpoint each, one call per service and second
 * of simulated time, as a client inventing a service name per request does) go through the real grouper,
 * aggregator and flusher into storage for a few minutes of simulated time: a DuckDB file as `meshsight
 * start` keeps it, or a private ClickHouse server on loopback (test/services). Then the collector idles
 * (drains with no input) and the process is left alone until its memory settles. Prints RSS before the
 * flood, at its peak and after idling (never forcing a garbage collection: what the process gives back on
 * its own), the flush throughput, and the time of the analyzer's round work (read the window, judge health,
 * evaluate the built-in rules) over what was stored. Prints, never asserts.
 *
 *   npx tsx bench/entity-flood.ts [services=20000] [minutes=3] [duckdb|clickhouse]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { pino } from "pino";
import { Registry } from "prom-client";
import { readAnalysisWindow } from "../analyzer/health/analysis-window.ts";
import { assessHealth } from "../analyzer/health/health-model.ts";
import { DEFAULT_RULES_YAML } from "../analyzer/rules/default-rules.ts";
import { parseRuleFile } from "../analyzer/rules/rule-file.ts";
import { findBreaches } from "../analyzer/rules/rule-evaluator.ts";
import { Flusher } from "../collector/aggregate/flusher.ts";
import { MinuteAggregator } from "../collector/aggregate/minute-aggregator.ts";
import { Sampler } from "../collector/aggregate/sampler.ts";
import { EndpointGrouper } from "../collector/endpoints/endpoint-grouper.ts";
import { fullGarbageCollection, HeapRelease } from "../collector/heap-release.ts";
import type { MeshCall } from "../core/model/access-log.ts";
import { ClickHouseStorage } from "../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import type { RetentionPolicy, StorageAdapter } from "../core/storage/port.ts";
import { RejectCounter } from "../core/telemetry/rejects.ts";
import { startClickHouse } from "../test/services/index.ts";

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const FLUSH_EVERY_MS = 10_000;
const IDLE_FLUSHES = 12;
/** The analyzer's defaults (analyzer/config.ts). */
const HEALTH_WINDOW_MINUTES = 5;
const MAX_ENTITIES_PER_SCOPE = 5_000;
const ANALYSIS_ROUNDS = 5;
const RETENTION: RetentionPolicy = { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 7, spansDays: 7, probeResultsDays: 30 };
/** Memory has settled once RSS has not fallen by more than SETTLE_MIB over SETTLE_MS. */
const SETTLE_MS = 20_000;
const SETTLE_MIB = 2;
/** Past the DuckDB storage's trim check (60 s) twice over: the check that sees the flood, then the one that sees it end. */
const SETTLE_DEADLINE_MS = 300_000;
const POLL_MS = 1_000;
const TRIM_MESSAGE = "DuckDB memory trimmed";

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

function memory(label: string, rss = process.memoryUsage.rss()): void {
  const { heapTotal, heapUsed, external } = process.memoryUsage();
  process.stdout.write(`${label.padEnd(30)} rss ${mib(rss).padStart(9)}   heap ${mib(heapUsed)} used of ${mib(heapTotal)}, external ${mib(external)}\n`);
}

interface BenchStorage {
  storage: StorageAdapter;
  close: () => Promise<void>;
}

/** A DuckDB file with the memory limit `meshsight start` gives it by default (storage.duckdbMemoryLimitMiB). */
async function openDuckDb(logger: pino.Logger, rejects: RejectCounter): Promise<BenchStorage> {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-entity-flood-"));
  const storage = new DuckDbStorage({ path: join(dir, "meshsight.duckdb"), logger, rejects, memoryLimitMiB: 1_024, retention: RETENTION });
  return { storage, close: async () => rm(dir, { recursive: true, force: true }) };
}

async function openClickHouse(logger: pino.Logger, rejects: RejectCounter): Promise<BenchStorage> {
  const server = await startClickHouse();
  return { storage: new ClickHouseStorage({ url: server.url, database: "entity_flood", logger, rejects, retention: RETENTION }), close: () => server.stop() };
}

/**
 * Polls RSS until it has fallen by no more than SETTLE_MIB over the last SETTLE_MS, once the collector's
 * heap release has run and (DuckDB) the storage has logged a trim; gives up at the deadline. Returns the seconds it took, or undefined.
 */
async function waitForMemoryToSettle(isTrimAwaited: () => boolean): Promise<number | undefined> {
  const startedMs = performance.now();
  const samples: { atMs: number; rss: number }[] = [];
  while (performance.now() - startedMs < SETTLE_DEADLINE_MS) {
    await delay(POLL_MS);
    const atMs = performance.now();
    const rss = process.memoryUsage.rss();
    samples.push({ atMs, rss });
    const reference = samples.findLast((sample) => sample.atMs <= atMs - SETTLE_MS);
    if (!isTrimAwaited() && reference !== undefined && reference.rss - rss <= SETTLE_MIB * 1_048_576) return (atMs - startedMs) / 1000;
  }
  return undefined;
}

async function main(): Promise<void> {
  const services = Number(process.argv[2] ?? 20_000);
  const minutes = Number(process.argv[3] ?? 3);
  const mode = process.argv[4] ?? "duckdb";
  if (mode !== "duckdb" && mode !== "clickhouse") throw new Error(`storage must be duckdb or clickhouse, got ${mode}`);
  let trims = 0;
  // Info and above, as a process logs by default; the DuckDB storage says when it trims its memory.
  const logger = pino({ level: "info" }, { write: (line: string) => void (line.includes(TRIM_MESSAGE) && trims++) });
  const registry = new Registry();
  const rejects = new RejectCounter(registry, logger);
  let nowMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - (minutes + 2) * MINUTE_MS;
  const clock = (): number => nowMs;
  const opened = mode === "duckdb" ? await openDuckDb(logger, rejects) : await openClickHouse(logger, rejects);
  const { storage } = opened;
  await storage.start();
  const grouper = new EndpointGrouper({ registry, clock });
  const aggregator = new MinuteAggregator({ registry, rejects, clock });
  const sampler = new Sampler({ registry, clock, uniformRate: 0 });
  // As the collector wires it (collector/collector.ts): the heap is collected once the flood's drains end.
  const collectGarbage = fullGarbageCollection();
  let heapReleases = 0;
  const heapRelease = new HeapRelease(() => {
    heapReleases++;
    collectGarbage();
  });
  await heapRelease.start();
  const flusher = new Flusher({ aggregator, sampler, writer: storage, registry, rejects, logger, clock, onDrained: (rows) => heapRelease.noteDrained(rows) });
  process.stdout.write(`entity flood into ${mode}: ${services} services for ${minutes} simulated minutes, flushing every ${FLUSH_EVERY_MS / 1000} s\n`);
  memory("before the flood (storage open)");

  let flushMicros = 0;
  let flushes = 0;
  const flush = async (): Promise<void> => {
    const before = process.cpuUsage();
    await flusher.flush();
    const used = process.cpuUsage(before);
    flushMicros += used.user + used.system;
    flushes++;
  };
  const source = { service: "flood-client.default", instance: "flood-client-0.default" };
  const endSimulationMs = nowMs + minutes * MINUTE_MS;
  let nextFlushMs = nowMs + FLUSH_EVERY_MS;
  let calls = 0;
  const startedMs = performance.now();
  for (; nowMs < endSimulationMs; nowMs += SECOND_MS) {
    for (let index = 0; index < services; index++) {
      const service = `fake-${index}.flood`;
      const call: MeshCall = {
        timeMs: nowMs,
        detectPoint: "server",
        source,
        callerLookup: "none",
        destination: { service, instance: `fake-${index}-0.flood` },
        endpoint: grouper.nameEndpoint(service, "GET", "/", "http"),
        component: "http",
        responseCode: 200,
        isError: false,
        latencyMs: 5,
        bytesIn: 100,
        bytesOut: 100,
        requestId: "",
        traceId: "",
        responseFlags: "",
      };
      if (aggregator.add(call)) calls++;
    }
    if (nowMs >= nextFlushMs) {
      await flush();
      nextFlushMs += FLUSH_EVERY_MS;
    }
  }
  await flush();
  const floodSeconds = (performance.now() - startedMs) / 1000;
  process.stdout.write(
    `flood: ${calls} calls taken in ${floodSeconds.toFixed(1)} s wall; ${flushes} flushes used ${(flushMicros / 1e6).toFixed(1)} CPU-s; ${flusher.pendingRows} rows still pending; rejected ${JSON.stringify(await rejectedByReason(registry))}\n`,
  );
  memory("peak (max RSS)", process.resourceUsage().maxRSS * 1024);
  memory("after the flood");

  for (let idle = 0; idle < IDLE_FLUSHES; idle++) {
    nowMs += FLUSH_EVERY_MS;
    await flush();
  }
  const settledSeconds = await waitForMemoryToSettle(() => heapReleases === 0 || (mode === "duckdb" && trims === 0));
  memory(settledSeconds === undefined ? `idle, deadline reached` : `idle, settled after ${settledSeconds.toFixed(0)} s`);
  process.stdout.write(`storage memory trims: ${trims}; heap releases: ${heapReleases}\n`);

  const rules = parseRuleFile(DEFAULT_RULES_YAML, "built-in rules");
  const roundNowMs = endSimulationMs - SECOND_MS;
  // CPU time of this process, not wall time: on a shared machine the wall clock measures the neighbours.
  for (let round = 1; round <= ANALYSIS_ROUNDS; round++) {
    const before = performance.now();
    const cpuBefore = process.cpuUsage();
    const window = await readAnalysisWindow(storage, { nowMs: roundNowMs, minuteCount: HEALTH_WINDOW_MINUTES, maxEntitiesPerScope: MAX_ENTITIES_PER_SCOPE });
    const readMs = performance.now() - before;
    const readCpuMs = cpuMs(process.cpuUsage(cpuBefore));
    const cpuJudging = process.cpuUsage();
    const verdicts = assessHealth(window, rules.health, HEALTH_WINDOW_MINUTES);
    const breaches = findBreaches(rules.rules, window);
    const judgeCpuMs = cpuMs(process.cpuUsage(cpuJudging));
    const totalMs = performance.now() - before;
    process.stdout.write(
      `analysis round ${round}: ${totalMs.toFixed(0)} ms wall (reading the window ${readMs.toFixed(0)} ms); CPU: reading ${readCpuMs.toFixed(0)} ms, judging ${judgeCpuMs.toFixed(0)} ms; ${verdicts.length} verdicts, ${breaches.length} breaches, skipped ${JSON.stringify(window.skipped)}\n`,
    );
  }
  memory("after the rounds");
  await flusher.stop();
  await heapRelease.stop();
  await storage.close();
  await opened.close();
}

async function rejectedByReason(registry: Registry): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric("meshsight_rejected_total")?.get())?.values ?? [];
  return Object.fromEntries(values.map((value) => [`${String(value.labels.source)}/${String(value.labels.reason)}`, value.value]));
}

await main();
