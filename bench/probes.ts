/**
 * Prober throughput and scheduling delay (prints, never asserts):
 *  1. central mode on the in-process queue: HTTP probe cases every 1 s with jitter against a local
 *     HTTP server in a child process; achieved runs per second and schedule delay p50/p99
 *     (targets: >= 500 runs/s, p99 < 100 ms);
 *  2. resident mode: 1,000 resident 1-second HTTP cases at once; achieved rate and CPU.
 * Usage: npx tsx bench/probes.ts [central pairs, default 600] [seconds per phase, default 10] [result batch size, default the config's]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { Registry } from "prom-client";
import { InlineQueue } from "../core/queue/inline.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import { jitterOffsetMs, parseProbeCase, type KindLookup } from "../prober/case.ts";
import { proberSection } from "../prober/config.ts";
import { httpKind } from "../prober/kinds/http/http-kind.ts";
import type { ProbeKind } from "../prober/kinds/kind.ts";
import { createProber } from "../prober/prober.ts";

const centralPairs = Number(process.argv[2] ?? 600);
const seconds = Number(process.argv[3] ?? 10);
const resultBatchSize = process.argv[4] === undefined ? proberSection.schema.parse({}).resultBatchSize : Number(process.argv[4]);
const logger = pino({ level: "warn" });
const JITTER_MS = 900;
const EARLY_MS = 50;
/** Each target's jitter offset, and how late each run reached the kind after its due time (boundary + offset). */
const offsetByTarget = new Map<string, number>();
const lateness: number[] = [];
/**
 * The http kind, noting when each run reaches it: the end-to-end delay from the schedule boundary, which
 * also covers the tick hop that the prober's own schedule-delay metric starts after. Valid while runs are
 * less than 950 ms late (every 1 s here).
 */
const timedHttp: ProbeKind<unknown> = {
  name: "http",
  parseSpec: (raw) => httpKind.parseSpec(raw),
  run(spec, target, context) {
    const offsetMs = offsetByTarget.get(target);
    // Timers may fire a millisecond before Date.now() reaches the due time: up to 50 ms early counts as early, not as 950 ms late.
    if (offsetMs !== undefined) lateness.push(((((Date.now() - offsetMs + EARLY_MS) % 1_000) + 1_000) % 1_000) - EARLY_MS);
    return httpKind.run(spec as Parameters<typeof httpKind.run>[0], target, context);
  },
};
const kinds: KindLookup = (name) => (name === "http" ? timedHttp : undefined);

/** The target runs in its own process so its CPU is not counted as the prober's. */
async function startTargetServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["-e", `
    const server = require("node:http").createServer((_request, response) => response.end("ok"));
    server.keepAliveTimeout = 60000;
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));
  `], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((result) => [String(result.value)]);
  return { url: `http://127.0.0.1:${line}`, stop: () => void child.kill() };
}

function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
}

async function phase(label: string, url: string, definitions: (url: string) => { name: string; targets: string[] }[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "meshsight-bench-probes-"));
  const storage = new DuckDbStorage({ path: ":memory:", logger, retention: { minuteDays: 1, hourDays: 1, dayDays: 1, samplesDays: 1, spansDays: 1, probeResultsDays: 1 } });
  await storage.start();
  const queue = new InlineQueue({ maxPending: 100_000, logger });
  const delays: number[] = [];
  let runs = 0;
  let failures = 0;
  // The benchmark's targets listen on loopback, which the egress policy denies unless allowed.
  const config = { ...proberSection.schema.parse({ egress: { allow: ["127.0.0.0/8"] } }), workerConcurrency: 128, maxCases: 5_000, maxTargetsPerCase: 1_000, resultBatchSize };
  const prober = createProber({
    dataDir,
    storage: {
      writeProbeResults: async (rows) => {
        runs += rows.length;
        failures += rows.filter((row) => row.status !== "success").length;
        await storage.writeProbeResults(rows);
      },
      queryProbeResults: (query) => storage.queryProbeResults(query),
      probeSeries: (query) => storage.probeSeries(query),
    },
    queue,
    kinds,
    registry: new Registry(),
    logger,
    onScheduleDelay: (delayMs) => delays.push(delayMs),
  }, { prober: config });
  for (const component of prober.components) await component.start();
  offsetByTarget.clear();
  for (const definition of definitions(url)) {
    for (const target of definition.targets) offsetByTarget.set(target, jitterOffsetMs(definition.name, target, JITTER_MS));
    await prober.internals.catalog.upsert(parseProbeCase(definition, kinds, "bench"));
  }
  // Skip the first two seconds: connection pools and JIT warm up.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await prober.internals.results.flush();
  const runsBefore = runs;
  delays.length = 0;
  lateness.length = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const startedMs = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  await prober.internals.results.flush();
  const elapsedS = (Date.now() - startedMs) / 1_000;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const sorted = [...delays].sort((a, b) => a - b);
  const late = [...lateness].sort((a, b) => a - b);
  const achieved = (runs - runsBefore) / elapsedS;
  console.log(
    `${label}: ${achieved.toFixed(0)} runs/s over ${elapsedS.toFixed(1)} s, failures ${failures}, ` +
      `schedule delay p50 ${percentile(sorted, 0.5).toFixed(1)} ms p99 ${percentile(sorted, 0.99).toFixed(1)} ms max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms, ` +
      `from the boundary p50 ${percentile(late, 0.5).toFixed(1)} ms p99 ${percentile(late, 0.99).toFixed(1)} ms, ` +
      `CPU ${(cpuS / elapsedS * 100).toFixed(0)} % of one core (${((runs - runsBefore) / cpuS).toFixed(0)} runs per CPU-second), RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, ` +
      `event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
  );
  for (const component of [...prober.components].reverse()) await component.stop();
  await queue.close();
  await storage.close();
  await rm(dataDir, { recursive: true, force: true });
}

const target = await startTargetServer();
try {
  const casesOf = (count: number, targetsPerCase: number, extra: Record<string, unknown>) => (url: string) =>
    Array.from({ length: count }, (_, caseIndex) => ({
      name: `bench-${caseIndex}`,
      kind: "http",
      targets: Array.from({ length: targetsPerCase }, (_, index) => `${url}/c${caseIndex}/t${index}`),
      timeout: "2s",
      ...extra,
    }));
  const perCase = 100;
  await phase(`central (inline queue), ${centralPairs} HTTP case-targets every 1 s with 900 ms jitter`, target.url, casesOf(Math.ceil(centralPairs / perCase), perCase, { schedule: { every: "1s", jitter: `${JITTER_MS}ms` } }));
  await phase("resident, 1000 HTTP cases every 1 s with 900 ms jitter", target.url, casesOf(1_000, 1, { resident: true, schedule: { every: "1s", jitter: `${JITTER_MS}ms` } }));
} finally {
  target.stop();
}
