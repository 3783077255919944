/**
 * The mesh-measured rule (docs/traces.md, "One count: the mesh-measured rule") between two collectors on one
 * Redis, in process: which minutes a mark answers for, spans decided after another replica saw the logs,
 * and what happens when the shared state cannot be reached.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Redis } from "ioredis";
import { MeshMeasuredServices } from "../../../collector/traces/mesh-measured.ts";
import type { SpanInput } from "../../../collector/span-input.ts";
import { closeRedisClient, createRedisClient } from "../../../core/redis/connection.ts";
import { RedisStateStore } from "../../../core/state/redis-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../../core/state/state-stores.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";
import { useRedis, type RunningService } from "../../services/index.ts";
import { metricValue } from "../receivers/envoy-als/harness.ts";
import { startTraceHarness } from "./harness.ts";

const MINUTE = 60_000;
const logger = pino({ level: "silent" });

function serverSpan(service: string, index: number, startMs: number, status: number): SpanInput {
  return {
    traceId: (index + 1).toString(16).padStart(32, "e"),
    spanId: (index + 1).toString(16).padStart(16, "f"),
    parentSpanId: "",
    name: "GET /reviews",
    kind: "server",
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    durationNs: 2_000_000,
    hasErrorStatus: false,
    statusMessage: "",
    attributes: { "http.method": "GET", "url.path": "/reviews", "http.status_code": String(status) },
    resourceAttributes: { "service.name": service, "k8s.namespace.name": "default" },
  };
}

void describe("mesh-measured marks shared through Redis", () => {
  let redis: RunningService;
  let client: Redis;
  /** Replicas of one test share a namespace; each test has its own. */
  const namespace = (): string => `mesh-measured-${randomUUID()}`;
  const replica = (keyPrefix: string): { store: RedisStateStore; services: MeshMeasuredServices } => {
    const store = new RedisStateStore({ client, keyPrefix, limits: DEFAULT_STATE_LIMITS, now: Date.now });
    return { store, services: new MeshMeasuredServices({ store, markTtlMs: 10 * MINUTE, registry: createMetricsRegistry({ version: "test", collectDefaults: false }), logger }) };
  };

  before(async () => {
    redis = await useRedis();
    client = createRedisClient(redis.url, { connectionName: "mesh-measured-test", lazyConnect: true });
    await client.connect();
  });

  after(async () => {
    await closeRedisClient(client);
    await redis.stop();
  });

  void it("a mark one replica wrote answers the other for the minute before a span's start through the minute of its end", async () => {
    const keyPrefix = namespace();
    const logs = replica(keyPrefix);
    const spans = replica(keyPrefix);
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    logs.services.note("reviews.default", minute + 30_000);
    await logs.services.drain();
    const asked = [
      { service: "reviews.default", startMs: minute + 59_999, endMs: minute + 60_001 },
      { service: "reviews.default", startMs: minute + MINUTE + 10, endMs: minute + MINUTE + 20 },
      { service: "reviews.default", startMs: minute - 5, endMs: minute + 1 },
      { service: "reviews.default", startMs: minute - 10, endMs: minute - 5 },
      { service: "reviews.default", startMs: minute + 2 * MINUTE, endMs: minute + 2 * MINUTE + 5 },
      { service: "legacy.default", startMs: minute + 10, endMs: minute + 20 },
    ];
    await spans.services.lookUp(asked);
    assert.deepEqual(
      asked.map((span) => spans.services.isMeasured(span.service, span.startMs, span.endMs)),
      // In the marked minute, in the next one (its log may be a little earlier), ending in it (its log may be a little later); not before, not two minutes on, not another service.
      [true, true, true, false, false, false],
    );
  });

  void it("spans decided after another replica took the logs of their calls count only for the service without a sidecar", async () => {
    const keyPrefix = namespace();
    const logs = replica(keyPrefix);
    const harness = await startTraceHarness({}, { meshState: replica(keyPrefix).store });
    try {
      const nowMs = Date.now();
      const spans = [0, 1, 2].flatMap((index) => [serverSpan("reviews", index, nowMs + index, index === 0 ? 503 : 200), serverSpan("legacy", index + 10, nowMs + index, index === 0 ? 503 : 200)]);
      assert.equal(harness.traces.spanIngest.ingest("otlp", spans).outcome, "accepted");
      // The sidecar's logs reach the other replica while the traces wait for their decision.
      logs.services.note("reviews.default", nowMs);
      await logs.services.drain();
      await harness.flush();
      const rows = await harness.storage.queryMetrics({ scope: "service", fromMs: nowMs - 2 * MINUTE, toMs: nowMs + 2 * MINUTE, resolution: "minute", groupByTime: false });
      assert.deepEqual(
        rows.map((row) => `${row.service} ${row.calls} calls ${row.errors} errors`),
        ["legacy.default 3 calls 1 errors"],
      );
    } finally {
      await harness.stop();
    }
  });

  void it("without the shared state, failed reads and writes are counted and spans count from what the process knows", async () => {
    const unreachable = createRedisClient("redis://127.0.0.1:1", { connectionName: "mesh-measured-unreachable", lazyConnect: true });
    const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
    const services = new MeshMeasuredServices({ store: new RedisStateStore({ client: unreachable, keyPrefix: namespace(), limits: DEFAULT_STATE_LIMITS, now: Date.now }), markTtlMs: MINUTE, registry, logger });
    try {
      const nowMs = Date.now();
      services.note("reviews.default", nowMs);
      await services.drain();
      await services.lookUp([{ service: "ratings.default", startMs: nowMs, endMs: nowMs }]);
      assert.equal(await metricValue(registry, "meshsight_mesh_measured_state_failures_total", { operation: "write" }), 1);
      assert.equal(await metricValue(registry, "meshsight_mesh_measured_state_failures_total", { operation: "read" }), 2);
      assert.equal(services.isMeasured("ratings.default", nowMs, nowMs), false);
      // What the process noted itself still counts; the next entry of the minute tries to write the mark again.
      assert.equal(services.isMeasured("reviews.default", nowMs, nowMs), true);
      services.note("reviews.default", nowMs);
      await services.drain();
      assert.equal(await metricValue(registry, "meshsight_mesh_measured_state_failures_total", { operation: "write" }), 2);
    } finally {
      unreachable.disconnect();
    }
  });
});
