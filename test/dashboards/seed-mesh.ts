import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import type { ProbeResult } from "../../core/model/probe.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { startTestCollector, writeBookinfoPeerMapping } from "../support/test-collector.ts";

/**
 * Fills a fresh ClickHouse database the way a running meshsight would: the real collector (ALS over real
 * gRPC, resolution, aggregation, flushing) fed by the bookinfo simulator with a slow and a failing
 * service, plus probe results as the prober stores them. Dashboards are then queried against it.
 */

const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
/** Two whole minutes, so time series have more than one point; older minutes would be past the aggregator's lateness window. */
const SIMULATED_MS = 2 * 60_000;
const PROBE_RUNS = 4;

export interface SeededMesh {
  database: string;
  fromMs: number;
  toMs: number;
  drop(): Promise<void>;
}

function probeResults(startMs: number): ProbeResult[] {
  const results: ProbeResult[] = [];
  for (let minute = 0; minute < PROBE_RUNS; minute++) {
    for (const [target, failing] of [["http://productpage.default:9080/productpage", false], ["http://details.default:9080/details/0", true]] as const) {
      const status = failing && minute % 2 === 0 ? "failure" : "success";
      results.push({
        runId: `run-${minute}-${target.length}`,
        probe: "bookinfo-http",
        kind: "http",
        target,
        service: failing ? "details.default" : "productpage.default",
        status,
        startedMs: startMs + minute * 30_000 + 5_000,
        durationMs: 40 + minute,
        phases: { dns: 1, connect: 2, tls: 0, firstByte: 30 + minute, total: 40 + minute },
        message: status === "failure" ? "status 503, expected 200" : "",
        attempt: 1,
        labels: { team: "bookinfo" },
      });
    }
  }
  return results;
}

export async function seedSimulatedMesh(clickhouseUrl: string, database: string): Promise<SeededMesh> {
  const logger = pino({ level: "silent" });
  const dir = mkdtempSync(join(tmpdir(), "meshsight-dashboards-"));
  const storage = new ClickHouseStorage({ url: clickhouseUrl, database, retention: RETENTION, logger });
  // Whole minutes in the recent past: inside the aggregator's lateness window, and a clean query range.
  const startMs = Math.floor(Date.now() / 60_000) * 60_000 - SIMULATED_MS;
  try {
    await storage.start();
    // Every record sampled: productpage's calls are neither errors nor past the slow threshold, and the
    // default 1 % uniform sample of 300 requests leaves its endpoint without samples about one run in 20.
    const settings = { staticMappingFile: writeBookinfoPeerMapping(dir), uniformSampleRate: 1 };
    const collector = await startTestCollector({ storage, logger, settings });
    const report = await simulateBookinfo({
      target: collector.alsTarget,
      startTimeMs: startMs,
      durationMs: SIMULATED_MS - 10_000,
      requests: 300,
      tcp: true,
      seed: 11,
      faults: [
        { kind: "delay", service: "ratings", delayMs: 800 },
        { kind: "abort", service: "details", fraction: 0.3 },
      ],
    });
    if (report.streamErrors.length > 0) throw new Error(`simulator streams failed: ${report.streamErrors.join("; ")}`);
    // Stopping flushes every open minute, so everything sent is stored when this returns.
    await collector.stop();
    await storage.writeProbeResults(probeResults(startMs));
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    database,
    fromMs: startMs - 60_000,
    toMs: startMs + SIMULATED_MS + 60_000,
    drop: async () => {
      await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, { method: "POST" });
    },
  };
}
