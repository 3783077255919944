import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { boundedJson } from "../../../collector/aggregate/bounded-json.ts";
import { Sampler, type SamplerOptions } from "../../../collector/aggregate/sampler.ts";
import { meshCall } from "./fixtures.ts";

function sampler(options: Partial<SamplerOptions> = {}): { sampler: Sampler; clock: { nowMs: number } } {
  const clock = { nowMs: 1_000_000 };
  return { sampler: new Sampler({ registry: new Registry(), clock: () => clock.nowMs, ...options }), clock };
}

void test("errors and slow calls are kept up to the per-service rate, which refills over time", () => {
  const { sampler: s, clock } = sampler({ perServiceRatePerSecond: 10, uniformRate: 0 });
  let kept = 0;
  for (let i = 0; i < 100; i++) if (s.offer(meshCall({ isError: true, responseCode: 503 }), {}) === "error") kept++;
  assert.equal(kept, 10, "one second's burst");
  assert.equal(s.offer(meshCall({ destination: { service: "other.default", instance: "" }, latencyMs: 1500 }), {}), "slow", "other services have their own bucket");
  assert.equal(s.offer(meshCall({ latencyMs: 1500 }), {}), null, "slow calls share the exhausted bucket");
  clock.nowMs += 500;
  for (let i = 0; i < 100; i++) if (s.offer(meshCall({ isError: true }), {}) !== null) kept++;
  assert.equal(kept, 15, "half a second refills five tokens");
  assert.equal(s.offer(meshCall({ latencyMs: 5 }), {}), null, "fast successes are not kept without the uniform sample");
  assert.equal(s.drain().length, 16);
  assert.equal(s.buffered, 0);
});

void test("a uniform share of the other calls is kept", () => {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const { sampler: s } = sampler({ uniformRate: 0.01, random, maxBuffered: 100_000 });
  for (let i = 0; i < 100_000; i++) s.offer(meshCall(), {});
  const kept = s.drain();
  assert.ok(kept.length > 800 && kept.length < 1200, `kept ${kept.length}`);
  assert.ok(kept.every((record) => record.reason === "uniform"));
});

void test("records name their own side's service and the peer, and keep the raw record as bounded JSON", () => {
  const { sampler: s } = sampler({ maxRawChars: 300 });
  s.offer(meshCall({ detectPoint: "server", isError: true, traceId: "t1" }), { path: "/reviews/1" });
  s.offer(meshCall({ detectPoint: "client", isError: true }), { userAgent: "x".repeat(10_000) });
  const [server, client] = s.drain();
  assert.equal(server?.service, "reviews.default");
  assert.equal(server?.instance, "reviews-v1-xyz.default");
  assert.equal(server?.peerService, "productpage.default");
  assert.equal(server?.traceId, "t1");
  assert.deepEqual(JSON.parse(server?.raw ?? ""), { path: "/reviews/1" });
  assert.equal(client?.service, "productpage.default");
  assert.equal(client?.peerService, "reviews.default");
  assert.ok((client?.raw.length ?? Infinity) <= 300);
  assert.doesNotThrow(() => JSON.parse(client?.raw ?? ""));
});

void test("the buffer is bounded until drained", () => {
  const { sampler: s } = sampler({ maxBuffered: 5, uniformRate: 1 });
  for (let i = 0; i < 50; i++) s.offer(meshCall(), {});
  assert.equal(s.buffered, 5);
});

void test("bounded JSON is always valid JSON within its bound, whatever the input", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(boundedJson(cyclic, 100), '{"unserializable":true}');
  const manyFields = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, '"quoted"\\']));
  const json = boundedJson(manyFields, 200);
  assert.ok(json.length <= 200, `${json.length}`);
  assert.equal((JSON.parse(json) as { truncated: boolean }).truncated, true);
});
