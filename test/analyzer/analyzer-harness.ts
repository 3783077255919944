import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Registry } from "prom-client";
import { createAnalysis, type Analysis } from "../../analyzer/analysis.ts";
import { fanOutDispatcher, type AlertDispatcher, type AlertNotification, type StandingAlertRegistry } from "../../analyzer/alerts/notification.ts";
import type { RootCauseLookup } from "../../analyzer/analysis-round.ts";
import { analyzerSection } from "../../analyzer/config.ts";
import { newDenseHistogram, recordLatency, toSparse } from "../../core/model/histogram.ts";
import type { MinuteMetrics } from "../../core/model/metrics.ts";
import type { ProbeResult } from "../../core/model/probe.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";

export const logger = pino({ level: process.env.ANALYZER_TEST_LOG_LEVEL ?? "silent" });
export const MINUTE_MS = 60_000;
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

/** Keeps what the analyzer handed to the outputs: the receiving side of the AlertDispatcher port. */
export class RecordingDispatcher implements AlertDispatcher {
  readonly sent: AlertNotification[] = [];

  dispatch(notification: AlertNotification): Promise<void> {
    this.sent.push(notification);
    return Promise.resolve();
  }

  changes(entity?: string): string[] {
    return this.sent.filter((each) => entity === undefined || each.alert.entity === entity).map((each) => `${each.change} ${each.alert.rule} ${each.alert.entity}`);
  }
}

export interface Harness {
  analyzer: Analysis;
  storage: DuckDbStorage;
  dispatcher: RecordingDispatcher;
  registry: Registry;
  dir: string;
  rulesFile: string;
  /** Starts the rules and state components (not the round loop unless asked). */
  start(options?: { loop?: boolean }): Promise<void>;
  stop(): Promise<void>;
  /** Writes one minute of a service's server-side traffic. */
  writeMinute(service: string, minuteMs: number, figures: { calls: number; errors?: number; latencyMs?: number }): Promise<void>;
  writeProbeRuns(probe: string, target: string, minuteMs: number, outcomes: readonly boolean[], service?: string): Promise<void>;
}

/** `outputs`: real alert outputs that get every notification too (next to the recording), and their lease renewals. */
export async function analyzerHarness(options: { rulesYaml?: string; config?: Record<string, unknown>; rootCauses?: RootCauseLookup; now?: () => number; outputs?: { dispatcher: AlertDispatcher; renewals: StandingAlertRegistry } } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-analyzer-"));
  const rulesFile = join(dir, "rules.yaml");
  if (options.rulesYaml !== undefined) await writeFile(rulesFile, options.rulesYaml);
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  await storage.start();
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  const dispatcher = new RecordingDispatcher();
  const analyzer = createAnalysis({
    config: analyzerSection.schema.parse({ rulesFile, stateFile: join(dir, "state.json"), intervalMs: 100, reloadDebounceMs: 20, ...options.config }),
    dataDir: dir,
    reader: storage,
    dispatcher: options.outputs ? fanOutDispatcher([dispatcher, options.outputs.dispatcher], (error) => logger.error({ err: error }, "dispatch failed")) : dispatcher,
    ...(options.outputs ? { renewals: options.outputs.renewals } : {}),
    rootCauses: options.rootCauses ?? { find: () => Promise.resolve(null) },
    registry,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const started: { stop(): Promise<void> }[] = [];
  return {
    analyzer,
    storage,
    dispatcher,
    registry,
    dir,
    rulesFile,
    async start(startOptions = {}) {
      for (const component of analyzer.components) {
        if (component.name === "analyzer.rounds" && !startOptions.loop) continue;
        await component.start();
        started.unshift(component);
      }
    },
    async stop() {
      for (const component of started.splice(0)) await component.stop();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async writeMinute(service, minuteMs, figures) {
      const histogram = newDenseHistogram();
      for (let index = 0; index < figures.calls; index++) recordLatency(histogram, figures.latencyMs ?? 10);
      const row: MinuteMetrics = {
        scope: "service",
        service,
        name: "",
        detectPoint: "",
        component: "",
        timeMs: minuteMs,
        calls: figures.calls,
        errors: figures.errors ?? 0,
        latencySumMs: figures.calls * (figures.latencyMs ?? 10),
        apdexSatisfied: figures.calls,
        apdexTolerating: 0,
        bytesIn: 0,
        bytesOut: 0,
        histogram: toSparse(histogram),
      };
      await storage.writeMetrics([row]);
    },
    async writeProbeRuns(probe, target, minuteMs, outcomes, service = "") {
      const rows: ProbeResult[] = outcomes.map((isSuccess, index) => ({
        runId: `${probe}-${minuteMs}-${index}`,
        probe,
        kind: "http",
        target,
        service,
        status: isSuccess ? "success" : "failure",
        startedMs: minuteMs + index * 1_000,
        durationMs: 5,
        phases: {},
        message: isSuccess ? "" : "HTTP 503",
        attempt: 1,
        labels: {},
      }));
      await storage.writeProbeResults(rows);
    },
  };
}
