/**
 * The poison rows of a real attack, through the real collector to real storage: a Zipkin span named
 * `get /\ud800` and an access-log line with `"path":"/a\ud800b"` once made ClickHouse refuse every insert
 * they were part of, and the flusher retried that batch forever. Now they are stored repaired, every good
 * record lands with them, and the batches after them are not held up: on ClickHouse 18.16 and on DuckDB.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { pino } from "pino";
import { buildApp } from "../../core/http/app.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { startTraceHarness } from "../collector/traces/harness.ts";
import { startTestCollector } from "../support/test-collector.ts";
import { BACKENDS, counted, rejectsOf } from "./storage-backends.ts";

const logger = pino({ level: "silent" });
const GOOD = 50;
/** JSON text with a lone surrogate escape, as an attacker's client sends it (JSON.stringify writes `\ud800` for one). */
const POISON_NAME = "get /\ud800";

function zipkinSpan(traceId: string, index: number, name: string, nowMs: number): Record<string, unknown> {
  return {
    traceId,
    id: (index + 1).toString(16).padStart(16, "0"),
    name,
    kind: "SERVER",
    timestamp: (nowMs - 5_000) * 1000 + index,
    duration: 2_000,
    localEndpoint: { serviceName: "web" },
    tags: { "http.route": name },
  };
}

function accessLogLine(path: string, index: number, nowMs: number): string {
  return JSON.stringify({
    start_time: new Date(nowMs - 5_000 + index).toISOString(),
    method: "GET",
    path,
    protocol: "HTTP/1.1",
    response_code: 200,
    response_flags: "-",
    bytes_received: 0,
    bytes_sent: 10,
    duration: 3,
    request_id: `req-${index}`,
    authority: "web:8080",
    upstream_host: "127.0.0.1:8080",
    upstream_cluster: "inbound|8080||",
    downstream_local_address: "10.0.0.2:8080",
    downstream_remote_address: "10.0.0.1:40000",
  });
}

for (const backend of BACKENDS) {
  void describe(`poison records through the collector into ${backend.name}`, () => {
    void it("a Zipkin span named get /\\ud800 is stored repaired beside every good span, and later spans are not held up", async () => {
      const store = await backend.open();
      const harness = await startTraceHarness({ spanMetrics: "all" }, { storage: store.storage });
      try {
        const nowMs = Date.now();
        const traceId = "ab".repeat(16);
        const spans = Array.from({ length: GOOD }, (_, i) => zipkinSpan(traceId, i, `get /items/${i}`, nowMs));
        spans.splice(GOOD / 2, 0, zipkinSpan(traceId, GOOD, POISON_NAME, nowMs));
        const post = (body: unknown[]): Promise<Response> =>
          fetch(`http://127.0.0.1:${harness.ports.zipkin}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        assert.equal((await post(spans)).status, 202);
        await harness.flush();

        const stored = await store.storage.getTrace(traceId);
        assert.equal(stored.length, GOOD + 1);
        assert.deepEqual(stored.filter((span) => span.name.startsWith("get /\ufffd")).map((span) => [span.name, span.attributes["http.route"]]), [["get /\ufffd", "get /\ufffd"]]);
        // Span metrics of the same request reached storage too.
        const range = { fromMs: nowMs - 3_600_000, toMs: nowMs + 3_600_000, resolution: "minute", groupByTime: false } as const;
        const [service] = await store.storage.queryMetrics({ ...range, scope: "service", service: "web" });
        assert.equal(service?.calls, GOOD + 1);

        const laterTrace = "cd".repeat(16);
        assert.equal((await post([zipkinSpan(laterTrace, 0, "get /later", nowMs)])).status, 202);
        await harness.flush();
        assert.equal((await store.storage.getTrace(laterTrace)).length, 1);
        assert.deepEqual(await rejectsOf(store.registry, `storage.${backend.name}`), {});
        assert.equal(await counted(harness.telemetry.registry, "meshsight_flush_pending_rows", {}), 0);
      } finally {
        await harness.stop();
        await store.close();
      }
    });

    void it('an access-log line with "path":"/a\\ud800b" is stored repaired beside every good line, and later lines are not held up', async () => {
      const store = await backend.open();
      const collector = await startTestCollector({ storage: store.storage, logger });
      const api = buildApp({ logger, registry: createMetricsRegistry({ version: "test", collectDefaults: false }), readinessChecks: [], bodyLimitBytes: 1 << 20, routes: collector.collector.routes });
      try {
        const nowMs = Date.now();
        const lines = Array.from({ length: GOOD }, (_, i) => accessLogLine(`/items/${i}`, i, nowMs));
        lines.splice(GOOD / 2, 0, accessLogLine("/a\ud800b", GOOD, nowMs));
        const post = (body: string[]): Promise<LightMyRequestResponse> =>
          api.inject({ method: "POST", url: "/api/v1/logs?format=json&service=web&namespace=default", headers: { "content-type": "application/x-ndjson" }, payload: `${body.join("\n")}\n` });
        const first = await post(lines);
        assert.equal(first.statusCode, 200, first.body);
        assert.equal(first.json<{ accepted: number }>().accepted, GOOD + 1);
        await post([accessLogLine("/later", GOOD + 1, nowMs)]);
        // Stopping flushes every open minute into storage.
        await collector.stop();

        const range = { fromMs: nowMs - 3_600_000, toMs: nowMs + 3_600_000, resolution: "minute", groupByTime: false } as const;
        const [service] = await store.storage.queryMetrics({ ...range, scope: "service", service: "web.default" });
        assert.equal(service?.calls, GOOD + 2);
        const endpoints = await store.storage.queryMetrics({ ...range, scope: "endpoint", service: "web.default" });
        assert.ok(
          endpoints.some((row) => row.name === "GET:/a\ufffdb"),
          `the poison path is stored repaired among ${endpoints.map((row) => row.name).join(", ")}`,
        );
        assert.deepEqual(await rejectsOf(store.registry, `storage.${backend.name}`), {});
        assert.equal(await counted(collector.registry, "meshsight_flush_pending_rows", {}), 0);
      } finally {
        await api.close();
        await collector.stop();
        await store.close();
      }
    });
  });
}
