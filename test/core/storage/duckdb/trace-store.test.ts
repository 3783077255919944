import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ProbeResult } from "../../../../core/model/probe.ts";
import type { Span } from "../../../../core/model/span.ts";
import { DuckDbStorage } from "../../../../core/storage/duckdb/duckdb-storage.ts";
import type { RetentionPolicy } from "../../../../core/storage/port.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";

const RETENTION: RetentionPolicy = { minuteDays: 2, hourDays: 10, dayDays: 30, samplesDays: 3, spansDays: 5, probeResultsDays: 6 };
const BASE_MS = Date.UTC(2024, 0, 15);
const DAY_MS = 86_400_000;
const logger = pino({ level: "silent" });

function span(spanId: string, startTimeUnixNano: bigint): Span {
  return {
    traceId: "t",
    spanId,
    parentSpanId: "",
    name: "op",
    kind: "server",
    startTimeUnixNano,
    durationNs: 1000,
    service: "reviews.default",
    instance: "",
    endpoint: "",
    peerService: "",
    isError: false,
    statusMessage: "",
    attributes: {},
    resourceAttributes: {},
  };
}

function run(startedMs: number): ProbeResult {
  return { runId: `r${startedMs}`, probe: "p", kind: "http", target: "t", service: "", status: "success", startedMs, durationMs: 1, phases: {}, message: "", attempt: 1, labels: {} };
}

describe("DuckDB trace store and probe results", () => {
  void it("counts invalid spans and probe results by reason and stores the valid ones of the batch", async () => {
    const registry = new Registry();
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger, rejects: new RejectCounter(registry, logger) });
    await storage.start();
    try {
      const good = span("ok", BigInt(BASE_MS) * 1_000_000n);
      await storage.writeSpans([good, { ...good, spanId: "" }, { ...good, spanId: "big", startTimeUnixNano: 2n ** 63n }, { ...good, spanId: "x", durationNs: 0.5 }]);
      await storage.writeProbeResults([run(BASE_MS), { ...run(BASE_MS), status: "meh" as ProbeResult["status"] }, null as unknown as ProbeResult]);
      assert.deepEqual(await storage.getTrace("t"), [good]);
      assert.equal((await storage.queryProbeResults({ fromMs: 0, toMs: BASE_MS + 1, limit: 10 })).length, 1);
      const metric = await registry.getSingleMetricAsString("meshsight_rejected_total");
      assert.match(metric, /source="storage\.duckdb",reason="invalid_span_row"\} 3/);
      assert.match(metric, /source="storage\.duckdb",reason="invalid_probe_result_row"\} 2/);
    } finally {
      await storage.close();
    }
  });

  void it("cuts spans exactly at now - spansDays, to the nanosecond, and probe results at now - probeResultsDays", async () => {
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
    await storage.start();
    try {
      const nowMs = BASE_MS + 40 * DAY_MS;
      const cutoffNs = BigInt(nowMs - RETENTION.spansDays * DAY_MS) * 1_000_000n;
      await storage.writeSpans([span("at-cutoff", cutoffNs), span("one-ns-older", cutoffNs - 1n)]);
      const probeCutoff = nowMs - RETENTION.probeResultsDays * DAY_MS;
      await storage.writeProbeResults([run(probeCutoff), run(probeCutoff - 1)]);
      await storage.enforceRetention(nowMs);
      assert.deepEqual((await storage.getTrace("t")).map((kept) => kept.spanId), ["at-cutoff"]);
      assert.deepEqual((await storage.queryProbeResults({ fromMs: 0, toMs: nowMs, limit: 10 })).map((kept) => kept.startedMs), [probeCutoff]);
    } finally {
      await storage.close();
    }
  });
});
