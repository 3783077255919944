import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { IngestActivity } from "../../collector/ingest-activity.ts";
import type { AccessLogIngest, SpanIngestPort } from "../../collector/ingest.ts";
import type { AccessLogEntry, ProxyIdentity } from "../../core/model/access-log.ts";
import { buildApp } from "../../core/http/app.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const proxy = {} as ProxyIdentity;
const entries = (count: number) => Array.from({ length: count }, () => ({}) as AccessLogEntry);

void describe("IngestActivity", () => {
  void it("tells once per receiver when it took its first records, not when its pipeline refused them", () => {
    const { logger, lines } = capturingLogger();
    const activity = new IngestActivity({ logger, rejectedTotal: () => 0, summaryIntervalMs: 0 });
    let isTaking = false;
    const als = activity.accessLogs("als", { ingest: () => isTaking });
    assert.equal(als.ingest(proxy, entries(3)), false);
    assert.equal(lines.length, 0, "a refused batch is not data taken");
    isTaking = true;
    als.ingest(proxy, entries(3));
    als.ingest(proxy, entries(4));
    const spans: SpanIngestPort = { ingest: () => ({ outcome: "accepted", accepted: 2, rejected: 1, rejectMessage: "" }) };
    activity.spans("zipkin", spans).ingest("zipkin", []);
    assert.deepEqual(
      lines.map((line) => [line.msg, line.receiver, line.count]),
      [
        ["first data on als: 3 entries", "als", 3],
        ["first data on zipkin: 2 spans", "zipkin", 2],
      ],
    );
  });

  void it("keeps what the inner ingest tells about aggregated entries", () => {
    const { logger } = capturingLogger();
    const inner: AccessLogIngest = { ingest: () => true, aggregatedEntries: 7 };
    assert.equal(new IngestActivity({ logger, rejectedTotal: () => 0, summaryIntervalMs: 0 }).accessLogs("log-post", inner).aggregatedEntries, 7);
  });

  void it("sums up rates per receiver and the rejects since the last summary, and says nothing when nothing happened", async () => {
    const { logger, lines } = capturingLogger();
    let nowMs = 1_000_000;
    let rejected = 5;
    const activity = new IngestActivity({ logger, rejectedTotal: () => rejected, summaryIntervalMs: 0, now: () => nowMs });
    await activity.component().start();
    const als = activity.accessLogs("als", { ingest: () => true });
    const logPost = activity.accessLogs("log-post", { ingest: () => true });
    als.ingest(proxy, entries(600));
    logPost.ingest(proxy, entries(30));
    rejected += 3;
    nowMs += 60_000;
    lines.length = 0;
    activity.summarize();
    assert.deepEqual(lines.map((line) => [line.msg, line.perSecond, line.rejected]), [["ingest over the last 60 s: als 10/s, log-post 0.5/s; 3 rejected", { als: 10, "log-post": 0.5 }, 3]]);
    nowMs += 60_000;
    activity.summarize();
    assert.equal(lines.length, 1, "an idle minute writes no summary");
    rejected += 2;
    nowMs += 30_000;
    activity.summarize();
    assert.equal(lines[1]?.msg, "ingest over the last 30 s: nothing received; 2 rejected");
  });

  void it("answers when records were last taken, on its own clock, and null before any", async () => {
    const { logger } = capturingLogger();
    let nowMs = 1_000_000;
    const activity = new IngestActivity({ logger, rejectedTotal: () => 0, summaryIntervalMs: 0, now: () => nowMs });
    const app = buildApp({ logger, registry: createMetricsRegistry({ version: "test", collectDefaults: false }), readinessChecks: [], bodyLimitBytes: 1 << 20, routes: [activity.routes()] });
    const freshness = async (): Promise<unknown> => (await app.inject({ method: "GET", url: "/api/v1/ingest/freshness" })).json();
    try {
      assert.deepEqual(await freshness(), { lastReceivedMs: null, nowMs: 1_000_000 });
      let isTaking = false;
      const als = activity.accessLogs("als", { ingest: () => isTaking });
      als.ingest(proxy, entries(2));
      assert.deepEqual(await freshness(), { lastReceivedMs: null, nowMs: 1_000_000 }, "a refused batch is no data");
      isTaking = true;
      nowMs += 5_000;
      als.ingest(proxy, entries(2));
      nowMs += 7_000;
      assert.deepEqual(await freshness(), { lastReceivedMs: 1_005_000, nowMs: 1_012_000 });
    } finally {
      await app.close();
    }
  });
});
