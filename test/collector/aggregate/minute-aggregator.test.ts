import assert from "node:assert/strict";
import { test } from "node:test";
import { MinuteAggregator, type MinuteAggregatorOptions } from "../../../collector/aggregate/minute-aggregator.ts";
import { PERCENTILE_RELATIVE_ERROR, percentileMs, totalCount } from "../../../core/model/histogram.ts";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { meshCall, telemetry, type Telemetry } from "./fixtures.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

function aggregator(options: Partial<MinuteAggregatorOptions> = {}): { aggregator: MinuteAggregator; telemetry: Telemetry; clock: { nowMs: number } } {
  const t = telemetry();
  const clock = { nowMs: T0 + 30_000 };
  const created = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => clock.nowMs, ...options });
  return { aggregator: created, telemetry: t, clock };
}

function row(rows: MinuteMetrics[], scope: MinuteMetrics["scope"], service: string, name = "", detectPoint = ""): MinuteMetrics {
  const found = rows.find((r) => r.scope === scope && r.service === service && r.name === name && r.detectPoint === detectPoint);
  assert.ok(found, `no ${scope} row for ${service} ${name} ${detectPoint}`);
  return found;
}

void test("a server-side call feeds service, instance, endpoint and relation; a client-side one only the relation", () => {
  const { aggregator: a } = aggregator();
  assert.equal(a.add(meshCall({ detectPoint: "server" })), true);
  assert.equal(a.add(meshCall({ detectPoint: "client", destination: { service: "ratings.default", instance: "" } })), true);
  const { metrics } = a.drain(T0 + 10 * MINUTE);
  const summary = metrics.map((r) => `${r.scope} ${r.service} ${r.name} ${r.detectPoint} ${r.component}`.trim()).sort();
  assert.deepEqual(summary, [
    "endpoint reviews.default GET:/reviews/{id}",
    "instance reviews.default reviews-v1-xyz.default",
    "relation productpage.default ratings.default client http",
    "relation productpage.default reviews.default server http",
    "service reviews.default",
  ]);
  for (const r of metrics) assert.equal(r.timeMs, T0);
});

void test("values: calls, errors, latency sum, bytes, histogram percentiles and apdex", () => {
  const { aggregator: a } = aggregator({ apdexThresholdsMs: new Map([["reviews.default", 100]]) });
  const latencies: number[] = [];
  for (let i = 1; i <= 1000; i++) {
    const latencyMs = i; // 1..1000 ms
    latencies.push(latencyMs);
    a.add(meshCall({ timeMs: T0 + (i % 60) * 1000, latencyMs, isError: i % 100 === 0, bytesIn: 1, bytesOut: 2 }));
  }
  const { metrics } = a.drain(T0 + 10 * MINUTE);
  const service = row(metrics, "service", "reviews.default");
  assert.equal(service.calls, 1000);
  assert.equal(service.errors, 10);
  assert.equal(service.latencySumMs, 500_500);
  assert.equal(service.bytesIn, 1000);
  assert.equal(service.bytesOut, 2000);
  assert.equal(totalCount(service.histogram), 1000);
  for (const q of [0.5, 0.9, 0.99]) {
    const exact = latencies[Math.ceil(q * 1000) - 1] ?? 0;
    const estimate = percentileMs(service.histogram, q);
    assert.ok(Math.abs(estimate - exact) / exact <= PERCENTILE_RELATIVE_ERROR + 1e-9, `q=${q}: ${estimate} vs ${exact}`);
  }
  // Threshold 100 ms: satisfied <= 100, tolerating <= 400, and an error is never satisfied nor tolerating.
  assert.equal(service.apdexSatisfied, 100 - 1);
  assert.equal(service.apdexTolerating, 300 - 3);
  // Relations use the callee's threshold too; other services the default 500 ms.
  assert.equal(row(metrics, "relation", "productpage.default", "reviews.default", "server").apdexSatisfied, 99);
});

void test("relations keep both detect points and components apart, and an unknown source becomes UNKNOWN", () => {
  const { aggregator: a } = aggregator();
  a.add(meshCall({ detectPoint: "client" }));
  a.add(meshCall({ detectPoint: "server" }));
  a.add(meshCall({ detectPoint: "server", component: "mtls" }));
  a.add(meshCall({ detectPoint: "server", source: { service: "", instance: "" } }));
  const { metrics } = a.drain(T0 + 10 * MINUTE);
  const relations = metrics.filter((r) => r.scope === "relation").map((r) => `${r.service}>${r.name} ${r.detectPoint} ${r.component} ${r.calls}`).sort();
  assert.deepEqual(relations, [
    "UNKNOWN>reviews.default server http 1",
    "productpage.default>reviews.default client http 1",
    "productpage.default>reviews.default server http 1",
    "productpage.default>reviews.default server mtls 1",
  ]);
  assert.equal(row(metrics, "service", "reviews.default").calls, 3);
});

void test("open minutes are handed over as partial sums and keep taking records until they close", () => {
  const { aggregator: a } = aggregator({ latenessMs: 2 * MINUTE });
  const serviceCalls = (rows: { scope: string; timeMs: number; calls: number }[], timeMs: number): number =>
    rows.filter((r) => r.scope === "service" && r.timeMs === timeMs).reduce((sum, r) => sum + r.calls, 0);
  a.add(meshCall({ timeMs: T0 + 1000 }));
  a.add(meshCall({ timeMs: T0 + MINUTE + 1000 }));
  const partial = a.drain(T0 + 3 * MINUTE - 1);
  assert.equal(serviceCalls(partial.metrics, T0), 1, "minute 0 is handed over while still open");
  assert.equal(serviceCalls(partial.metrics, T0 + MINUTE), 1);
  assert.equal(a.openEntityMinutes, 0, "what was handed over is not held");
  assert.equal(a.add(meshCall({ timeMs: T0 + 2000 })), true, "minute 0 is still open 1 ms before its close");
  const closing = a.drain(T0 + 3 * MINUTE);
  assert.equal(serviceCalls(closing.metrics, T0), 1, "only the record added since the last drain");
  assert.equal(a.add(meshCall({ timeMs: T0 + 3000 })), false, "minute 0 closed: its records are late now");
  assert.equal(a.add(meshCall({ timeMs: T0 + MINUTE + 2000 })), true, "minute 1 is still open");
  const forced = a.drain(T0 + 3 * MINUTE, true);
  assert.equal(serviceCalls(forced.metrics, T0 + MINUTE), 1);
  assert.equal(a.add(meshCall({ timeMs: T0 + MINUTE + 3000 })), false, "a forced drain closes every minute");
  assert.equal(a.drain(T0 + 100 * MINUTE, true).metrics.length, 0, "nothing is handed over twice");
});

void test("late, future and malformed records are counted rejects, not crashes", async () => {
  const { aggregator: a, telemetry: t, clock } = aggregator({ latenessMs: 2 * MINUTE, maxFutureMs: MINUTE });
  clock.nowMs = T0 + 10 * MINUTE;
  assert.equal(a.add(meshCall({ timeMs: T0 + 7 * MINUTE + 59_999 })), false, "its minute closed at now");
  assert.equal(a.add(meshCall({ timeMs: T0 + 8 * MINUTE })), true, "the oldest open minute");
  assert.equal(a.add(meshCall({ timeMs: clock.nowMs + MINUTE + 1 })), false, "too far ahead");
  assert.equal(a.add(meshCall({ timeMs: clock.nowMs + MINUTE })), true, "ahead within the allowed skew");
  a.drain(T0 + 9 * MINUTE, true);
  assert.equal(a.add(meshCall({ timeMs: T0 + 10 * MINUTE })), false, "minute already handed over by a forced drain");
  assert.equal(a.add(meshCall({ timeMs: Number.NaN })), false);
  assert.equal(a.add(meshCall({ timeMs: T0 + 10 * MINUTE + 1, latencyMs: -1 })), false);
  assert.equal(a.add(meshCall({ timeMs: T0 + 10 * MINUTE + 1, component: "smtp" as never })), false);
  assert.equal(await t.rejected("aggregate", "late"), 2);
  assert.equal(await t.rejected("aggregate", "future"), 1);
  assert.equal(await t.rejected("aggregate", "invalid-time"), 1);
  assert.equal(await t.rejected("aggregate", "invalid-values"), 1);
  assert.equal(await t.rejected("aggregate", "invalid-dimension"), 1);
});

void test("open entity-minutes are bounded: overload is reported before the bound and counted beyond it", async () => {
  const { aggregator: a, telemetry: t } = aggregator({ maxOpenEntityMinutes: 20 });
  for (let i = 0; i < 100; i++) a.add(meshCall({ endpoint: `GET:/e${i}` }));
  assert.equal(a.openEntityMinutes, 20);
  assert.equal(a.isOverloaded(), true);
  assert.ok((await t.rejected("aggregate", "overload")) > 0);
  a.drain(T0 + 10 * MINUTE);
  assert.equal(a.openEntityMinutes, 0);
  assert.equal(a.isOverloaded(), false);
});

void test("entities: services of both sides, instances with their attributes, endpoints", () => {
  const { aggregator: a, clock } = aggregator();
  a.noteInstance({ service: "reviews.default", instance: "reviews-v1-xyz.default" }, { "pod.ip": "10.0.0.7", version: "v1" }, T0 + 5000);
  a.add(meshCall({ timeMs: T0 + 20_000 }));
  a.add(meshCall({ timeMs: T0 + 10_000, detectPoint: "client", destination: { service: "ratings.default", instance: "" } }));
  const { entities } = a.drain(T0 + 10 * MINUTE);
  const byKey = new Map(entities.map((e) => [`${e.kind} ${e.service} ${e.name}`, e]));
  assert.deepEqual([...byKey.keys()].sort(), [
    "endpoint reviews.default GET:/reviews/{id}",
    "instance reviews.default reviews-v1-xyz.default",
    "service productpage.default ",
    "service ratings.default ",
    "service reviews.default ",
  ]);
  const instance = byKey.get("instance reviews.default reviews-v1-xyz.default");
  assert.deepEqual(instance?.attributes, { "pod.ip": "10.0.0.7", version: "v1" });
  assert.equal(instance?.lastSeenMs, T0 + 20_000);
  assert.equal(instance?.layer, "MESH");
  // Attributes stay on later rows of the same instance, so an upsert never erases them.
  clock.nowMs = T0 + 11 * MINUTE;
  assert.equal(a.add(meshCall({ timeMs: T0 + 11 * MINUTE })), true);
  const later = a.drain(T0 + 20 * MINUTE).entities.find((e) => e.kind === "instance");
  assert.deepEqual(later?.attributes, { "pod.ip": "10.0.0.7", version: "v1" });
});
