import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { loadAlsProtocol } from "../../../collector/simulator/als-protocol.ts";
import type { BookinfoFault } from "../../../collector/simulator/bookinfo-traffic.ts";
import { simulateBookinfo } from "../../../collector/simulator/simulate-bookinfo.ts";
import { createRootCauseFinder, type RankedRootCause } from "../../../analyzer/rca/root-cause.ts";
import { ClickHouseStorage } from "../../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../../../core/storage/port.ts";
import { useClickHouse } from "../../services/index.ts";
import { startTestCollector } from "../../support/test-collector.ts";
import { assertVerdict, logger, RETENTION } from "./bookinfo-cases.ts";

/**
 * Root cause on data the collector itself stored: bookinfo traffic over real ALS gRPC into an in-process
 * collector, a healthy baseline window, then a window with one fault, read back from each real store.
 */

const WINDOW_MINUTES = 5;
const MINUTE_MS = 60_000;
const REQUESTS_PER_WINDOW = 300;

interface Scenario {
  faults: readonly BookinfoFault[];
  symptomatic: string[];
}

/** Runs both windows through a collector into `storage`; returns the end of the current window. */
async function collectBookinfo(storage: StorageAdapter, faults: readonly BookinfoFault[]): Promise<number> {
  // Lateness covers both windows: the simulator writes ten minutes of traffic in a few seconds.
  const collector = await startTestCollector({ storage, logger, settings: { latenessSeconds: 3_600 } });
  const nowMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  try {
    const common = { target: collector.alsTarget, requests: REQUESTS_PER_WINDOW, durationMs: WINDOW_MINUTES * MINUTE_MS, protocol: loadAlsProtocol() };
    const baseline = await simulateBookinfo({ ...common, startTimeMs: nowMs - 2 * WINDOW_MINUTES * MINUTE_MS, seed: 1 });
    const current = await simulateBookinfo({ ...common, startTimeMs: nowMs - WINDOW_MINUTES * MINUTE_MS, seed: 2, faults });
    assert.deepEqual([...baseline.streamErrors, ...current.streamErrors], []);
  } finally {
    // Stopping flushes every open minute, so the store holds all traffic before the analysis reads it.
    await collector.stop();
  }
  return nowMs;
}

function runAgainst(storageName: string, scenarios: Record<string, Scenario & { expect: (verdict: RankedRootCause | null) => void }>, openStorage: () => Promise<{ storage: StorageAdapter; cleanup: () => Promise<void> }>): void {
  describe(`root cause on collected bookinfo traffic (${storageName})`, () => {
    const opened: { storage: StorageAdapter; cleanup: () => Promise<void> }[] = [];
    after(async () => {
      for (const { storage, cleanup } of opened) {
        await storage.close();
        await cleanup();
      }
    });
    for (const [name, scenario] of Object.entries(scenarios)) {
      it(name, async () => {
        const handle = await openStorage();
        opened.push(handle);
        await handle.storage.start();
        const nowMs = await collectBookinfo(handle.storage, scenario.faults);
        const finder = createRootCauseFinder({ reader: handle.storage, logger });
        scenario.expect((await finder.find({ symptomaticServices: scenario.symptomatic, nowMs, windowMinutes: WINDOW_MINUTES })) as RankedRootCause | null);
      });
    }
  });
}

const ratingsAborts: Scenario & { expect: (verdict: RankedRootCause | null) => void } = {
  faults: [{ kind: "abort", service: "ratings", fraction: 1 }],
  symptomatic: ["productpage.default", "reviews.default"],
  expect: (verdict) => {
    assertVerdict(verdict, "ratings.default");
    assert.equal(verdict.instance, "");
    assert.ok(verdict.score >= 0.8, `score ${verdict.score}`);
    const errorRate = verdict.evidence.find((item) => item.metric === "error_rate");
    assert.equal(errorRate?.before, 0);
    assert.equal(errorRate?.after, 1);
    const samples = verdict.evidence.filter((item) => item.kind === "sample");
    assert.ok(samples.length > 0, "sampled error records of ratings");
    for (const sample of samples) assert.match(sample.summary, /^503 GET:\/ratings\/\{id\} on ratings-v1-85cc46b6d4-tn9vj\.default from reviews\.default/);
    assert.ok(!verdict.candidates.some((candidate) => candidate.service === "productpage.default" && candidate.score >= verdict.score));
  },
};

runAgainst(
  "DuckDB",
  {
    "names ratings when it answers 503, with its error samples as evidence": ratingsAborts,
    "names the reviews pod that is down": {
      faults: [{ kind: "pod-down", pod: "reviews-v2-7b8f6d9c5-qz2lp" }],
      symptomatic: ["productpage.default"],
      expect: (verdict) => {
        assertVerdict(verdict, "reviews.default");
        assert.equal(verdict.instance, "reviews-v2-7b8f6d9c5-qz2lp.default");
      },
    },
    "names ratings when it turns slow, with its p95 change as evidence": {
      faults: [{ kind: "delay", service: "ratings", delayMs: 1_500 }],
      symptomatic: ["productpage.default"],
      expect: (verdict) => {
        assertVerdict(verdict, "ratings.default");
        const p95 = verdict.evidence.find((item) => item.metric === "p95");
        assert.ok(p95?.before !== undefined && p95.before < 10 && (p95.after ?? 0) >= 1_400, JSON.stringify(p95));
      },
    },
    "finds nothing in healthy traffic": { faults: [], symptomatic: ["productpage.default"], expect: (verdict) => assert.equal(verdict, null) },
  },
  async () => ({ storage: new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger }), cleanup: async () => {} }),
);

runAgainst("ClickHouse", { "names ratings when it answers 503, with its error samples as evidence": ratingsAborts }, async () => {
  const server = await useClickHouse();
  const database = `rca_${process.pid}_${Date.now()}`;
  return {
    storage: new ClickHouseStorage({ url: server.url, database, retention: RETENTION, logger }),
    cleanup: async () => {
      await fetch(`${server.url}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, { method: "POST" });
      await server.stop();
    },
  };
});
