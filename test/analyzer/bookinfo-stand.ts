import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAnalysis, type Analysis } from "../../analyzer/analysis.ts";
import { fanOutDispatcher } from "../../analyzer/alerts/notification.ts";
import { analyzerSection } from "../../analyzer/config.ts";
import { loadAlsProtocol } from "../../collector/simulator/als-protocol.ts";
import type { BookinfoFault } from "../../collector/simulator/bookinfo-traffic.ts";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { gateSection } from "../../analyzer/gate/config.ts";
import { createGates, type Gates } from "../../analyzer/gate/gates.ts";
import { createAlertOutputs, outputsSection } from "../../analyzer/outputs/alert-outputs.ts";
import { buildApp } from "../../core/http/app.ts";
import { InlineQueue } from "../../core/queue/inline.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { startTestCollector, type TestCollector } from "../support/test-collector.ts";
import { waitFor } from "../support/wait-for.ts";
import { logger, MINUTE_MS, RecordingDispatcher } from "./analyzer-harness.ts";

/**
 * The analyzer end to end on bookinfo: simulated traffic over real ALS gRPC into an in-process collector
 * on DuckDB, and the analyzer with its built-in rules and the real root-cause finder, its clock set by
 * the test (`now`) so rounds look at simulated minutes while they run on the real loop. With `outputs`
 * (the outputs config section) the notifications also go through the real alert outputs to their receivers.
 * With `gates` (gate YAML and the gates' own clock) the release gate serves its routes in the same app and the
 * analysis cites its audited acts, as analyzer/analyzer.ts wires them in a process with both roles.
 */
export interface BookinfoStand {
  storage: DuckDbStorage;
  analyzer: Analysis;
  app: ReturnType<typeof buildApp>;
  dispatcher: RecordingDispatcher;
  gates: Gates | undefined;
  /** Plays `minutes` of traffic from `startTimeMs` and waits until storage holds all of productpage's calls so far. */
  play(startTimeMs: number, minutes: number, faults: readonly BookinfoFault[], seed: number): Promise<void>;
  startAnalysis(): Promise<void>;
  close(): Promise<void>;
}

export async function startBookinfoStand(options: { now: () => number; roundMs: number; firstMinuteMs: number; outputs?: Record<string, unknown>; gates?: { yaml: string; now: () => number } }): Promise<BookinfoStand> {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-bookinfo-stand-"));
  const storage = new DuckDbStorage({ path: ":memory:", retention: { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 }, logger });
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  const dispatcher = new RecordingDispatcher();
  const protocol = loadAlsProtocol();
  await storage.start();
  const collector: TestCollector = await startTestCollector({ storage, logger, settings: { latenessSeconds: 3_600 } });
  const queue = new InlineQueue({ maxPending: 1_000, logger });
  const outputs = options.outputs && createAlertOutputs({ config: outputsSection.schema.parse(options.outputs), queue, registry, logger });
  for (const component of outputs?.components ?? []) await component.start();
  const gates = options.gates && createReleaseGates(dir, options.gates, storage, registry);
  for (const component of gates?.components ?? []) await component.start();
  const analyzer = createAnalysis({
    config: analyzerSection.schema.parse({ intervalMs: options.roundMs }),
    dataDir: dir,
    reader: storage,
    dispatcher: outputs ? fanOutDispatcher([dispatcher, outputs.dispatcher], (error) => logger.error({ err: error }, "dispatch failed")) : dispatcher,
    ...(outputs ? { renewals: outputs.renewals } : {}),
    registry,
    logger,
    now: options.now,
    ...(gates ? { recentReleases: gates.recentReleases } : {}),
  });
  const app = buildApp({ logger, registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: [...analyzer.routes, ...(outputs?.routes ?? []), ...(gates?.routes ?? [])] });
  let sentCalls = 0;
  return {
    storage,
    analyzer,
    app,
    dispatcher,
    gates,
    async play(startTimeMs, minutes, faults, seed) {
      const report = await simulateBookinfo({ target: collector.alsTarget, requests: minutes * 40, startTimeMs, durationMs: minutes * MINUTE_MS, faults, protocol, seed });
      assert.deepEqual(report.streamErrors, []);
      sentCalls += report.services["productpage.default"]?.calls ?? 0;
      const toMs = Math.max(startTimeMs + minutes * MINUTE_MS, Date.now());
      await waitFor(async () => {
        const rows = await storage.queryMetrics({ scope: "service", service: "productpage.default", fromMs: options.firstMinuteMs, toMs, resolution: "minute", groupByTime: false });
        return rows.reduce((total, row) => total + row.calls, 0) === sentCalls;
      }, "the collector to store all traffic", 20_000);
    },
    async startAnalysis() {
      for (const component of analyzer.components) await component.start();
    },
    async close() {
      for (const component of [...analyzer.components].reverse()) await component.stop();
      await collector.stop();
      for (const component of [...(outputs?.components ?? []), ...(gates?.components ?? [])].reverse()) await component.stop();
      await queue.close();
      await app.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The release gate from one gate file; its probe runs find no cases, so SLOs over the stand's storage decide. */
function createReleaseGates(dir: string, options: { yaml: string; now: () => number }, storage: DuckDbStorage, registry: ReturnType<typeof createMetricsRegistry>): Gates {
  const file = join(dir, "gates.yaml");
  writeFileSync(file, options.yaml);
  const config = gateSection.schema.parse({ files: [file] });
  return createGates({ config, dataDir: dir, reader: storage, runReleaseProbes: () => Promise.resolve([]), registry, logger, now: options.now });
}
