/**
 * An entity flood: N distinct services (one instance and one endpoint each, one call per service and second
 * of simulated time, as a client inventing a service name per request does) go through the real grouper,
 * aggregator and flusher into an in-memory DuckDB for a few minutes of simulated time; then the collector
 * idles (drains with no input). Prints RSS after the flood and after idling, the flush throughput, and
 * the time of the analyzer's round work (read the window, judge health, evaluate the built-in rules) over
 * what was stored. Prints, never asserts.
 *
 *   node --expose-gc --import tsx bench/entity-flood.ts [services=20000] [minutes=3]
 */
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
import type { MeshCall } from "../core/model/access-log.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import { RejectCounter } from "../core/telemetry/rejects.ts";

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const FLUSH_EVERY_MS = 10_000;
const IDLE_FLUSHES = 12;
/** The analyzer's defaults (analyzer/config.ts). */
const HEALTH_WINDOW_MINUTES = 5;
const MAX_ENTITIES_PER_SCOPE = 5_000;
const ANALYSIS_ROUNDS = 5;

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function memory(label: string): void {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(`${label.padEnd(34)} rss ${mib(rss).padStart(9)}   heap used ${mib(heapUsed).padStart(9)}\n`);
}

async function main(): Promise<void> {
  const services = Number(process.argv[2] ?? 20_000);
  const minutes = Number(process.argv[3] ?? 3);
  const logger = pino({ level: "silent" });
  const registry = new Registry();
  const rejects = new RejectCounter(registry, logger);
  let nowMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - (minutes + 2) * MINUTE_MS;
  const clock = (): number => nowMs;
  // The memory limit `meshsight start` gives DuckDB by default (storage.duckdbMemoryLimitMiB).
  const storage = new DuckDbStorage({ path: ":memory:", logger, rejects, memoryLimitMiB: 1_024, retention: { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 7, spansDays: 7, probeResultsDays: 30 } });
  await storage.start();
  const grouper = new EndpointGrouper({ registry, clock });
  const aggregator = new MinuteAggregator({ registry, rejects, clock });
  const sampler = new Sampler({ registry, clock, uniformRate: 0 });
  const flusher = new Flusher({ aggregator, sampler, writer: storage, registry, rejects, logger, clock });
  process.stdout.write(`entity flood: ${services} services for ${minutes} simulated minutes, flushing every ${FLUSH_EVERY_MS / 1000} s\n`);
  memory("before");

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
  memory("after the flood");

  for (let idle = 0; idle < IDLE_FLUSHES; idle++) {
    nowMs += FLUSH_EVERY_MS;
    await flush();
  }
  memory(`after ${(IDLE_FLUSHES * FLUSH_EVERY_MS) / MINUTE_MS} idle minutes`);

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
  await storage.close();
}

async function rejectedByReason(registry: Registry): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric("meshsight_rejected_total")?.get())?.values ?? [];
  return Object.fromEntries(values.map((value) => [`${String(value.labels.source)}/${String(value.labels.reason)}`, value.value]));
}

await main();
