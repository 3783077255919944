import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import { createRootCauseFinder, type RankedRootCause } from "../../../analyzer/rca/root-cause.ts";
import type { RcaLimits } from "../../../analyzer/rca/limits.ts";
import type { RootCause } from "../../../core/model/alert.ts";
import type { StorageReader } from "../../../core/storage/port.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { MINUTE_MS, writeMeshWindow, type MeshWindow, type ServiceLoad } from "./mesh-fixtures.ts";

/**
 * Root-cause verdicts on exact minute metrics written to a real (embedded DuckDB) store: a bookinfo
 * mesh whose baseline is healthy, and a current window with one fault at a time.
 */

const logger = pino({ level: "silent" });
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const WINDOW_MINUTES = 5;
const NOW_MS = Date.UTC(2024, 0, 15, 12, 0);
const CURRENT_START = NOW_MS - WINDOW_MINUTES * MINUTE_MS;
const BASELINE_START = NOW_MS - 2 * WINDOW_MINUTES * MINUTE_MS;

const BOOKINFO_EDGES = [
  ["istio-ingressgateway.istio-system", "productpage.default"],
  ["productpage.default", "details.default"],
  ["productpage.default", "reviews.default"],
  ["reviews.default", "ratings.default"],
  ["ratings.default", "mysqldb.default"],
] as const;

const REVIEWS_PODS = ["reviews-v1-d66dcfdc5-kh6v7.default", "reviews-v2-7b8f6d9c5-qz2lp.default", "reviews-v3-5c9f4b7d8-x8mwn.default"];

function healthyBookinfo(): Record<string, ServiceLoad> {
  return {
    "productpage.default": { calls: 90, errors: 0, latencyMs: 25 },
    "details.default": { calls: 90, errors: 0, latencyMs: 3 },
    "reviews.default": { instances: Object.fromEntries(REVIEWS_PODS.map((pod) => [pod, { calls: 30, errors: 0, latencyMs: 9 }])) },
    "ratings.default": { calls: 60, errors: 0, latencyMs: 3 },
    "mysqldb.default": { calls: 60, errors: 0, latencyMs: 1 },
  };
}

const stores: DuckDbStorage[] = [];
after(async () => {
  for (const store of stores) await store.close();
});

/** A fresh store holding a healthy baseline window and the given current window. */
async function meshWith(current: Partial<MeshWindow> & { services: Record<string, ServiceLoad> }, baseline: Partial<MeshWindow> = {}): Promise<DuckDbStorage> {
  const store = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  stores.push(store);
  await store.start();
  await writeMeshWindow(store, { startMs: BASELINE_START, minutes: WINDOW_MINUTES, services: healthyBookinfo(), edges: BOOKINFO_EDGES, ...baseline });
  await writeMeshWindow(store, { startMs: CURRENT_START, minutes: WINDOW_MINUTES, edges: BOOKINFO_EDGES, ...current });
  return store;
}

async function find(reader: StorageReader, symptomaticServices: string[], limits: Partial<RcaLimits> = {}): Promise<RankedRootCause | null> {
  const finder = createRootCauseFinder({ reader, logger, limits });
  return (await finder.find({ symptomaticServices, nowMs: NOW_MS, windowMinutes: WINDOW_MINUTES })) as RankedRootCause | null;
}

function assertVerdict(verdict: RootCause | null, service: string): asserts verdict is RankedRootCause {
  assert.ok(verdict, `a verdict naming ${service}`);
  assert.equal(verdict.service, service, `verdict ${verdict.service}: ${verdict.reason}`);
}

describe("root cause on exact metrics (DuckDB)", () => {
  it("names ratings, not productpage or reviews, when ratings answers 503", async () => {
    const services = healthyBookinfo();
    services["ratings.default"] = { calls: 60, errors: 60, latencyMs: 3 };
    services["reviews.default"] = { instances: Object.fromEntries(REVIEWS_PODS.map((pod, i) => [pod, { calls: 30, errors: i === 0 ? 0 : 30, latencyMs: 9 }])) };
    services["productpage.default"] = { calls: 90, errors: 60, latencyMs: 25 };
    const store = await meshWith({ services });
    const verdict = await find(store, ["productpage.default", "reviews.default"]);
    assertVerdict(verdict, "ratings.default");
    assert.equal(verdict.instance, "", "one pod only: the whole service is the cause");
    assert.ok(verdict.score >= 0.8, `score ${verdict.score}`);
    assert.deepEqual(verdict.path, ["reviews.default", "ratings.default"]);
    assert.match(verdict.reason, /ratings\.default .*none of its dependencies is unhealthy.*error rate 0\.0% -> 100\.0%/);
    const errorRate = verdict.evidence.find((item) => item.metric === "error_rate");
    assert.deepEqual({ before: errorRate?.before, after: errorRate?.after }, { before: 0, after: 1 });
    const ranked = verdict.candidates.map((candidate) => candidate.service);
    assert.equal(ranked[0], "ratings.default");
    assert.ok(ranked.includes("reviews.default") && ranked.includes("productpage.default"), `candidates ${ranked.join(", ")}`);
    for (const candidate of verdict.candidates.slice(1)) assert.ok(candidate.score < verdict.score, `${candidate.service} ${candidate.score} < ${verdict.score}`);
  });

  it("names the one bad instance when its errors are concentrated on it", async () => {
    const services = healthyBookinfo();
    services["reviews.default"] = { instances: Object.fromEntries(REVIEWS_PODS.map((pod, i) => [pod, { calls: 30, errors: i === 1 ? 27 : 0, latencyMs: 9 }])) };
    services["productpage.default"] = { calls: 90, errors: 27, latencyMs: 25 };
    const store = await meshWith({ services });
    const verdict = await find(store, ["productpage.default"]);
    assertVerdict(verdict, "reviews.default");
    assert.equal(verdict.instance, REVIEWS_PODS[1]);
    assert.match(verdict.reason, /concentrated on reviews-v2-7b8f6d9c5-qz2lp\.default \(errors\)/);
    assert.ok(verdict.evidence.some((item) => item.summary.includes("135 of 135 errors (100%)")), JSON.stringify(verdict.evidence));
  });

  it("keeps the whole service when errors are spread over its instances", async () => {
    const services = healthyBookinfo();
    services["reviews.default"] = { instances: Object.fromEntries(REVIEWS_PODS.map((pod) => [pod, { calls: 30, errors: 10, latencyMs: 9 }])) };
    const store = await meshWith({ services });
    const verdict = await find(store, ["productpage.default"]);
    assertVerdict(verdict, "reviews.default");
    assert.equal(verdict.instance, "");
  });

  it("names a pod that went silent while its callers get 503s", async () => {
    const services = healthyBookinfo();
    services["reviews.default"] = { instances: Object.fromEntries(REVIEWS_PODS.slice(1).map((pod) => [pod, { calls: 30, errors: 0, latencyMs: 9 }])) };
    const store = await meshWith({ services, unansweredCalls: { "reviews.default": 30 } });
    const verdict = await find(store, ["productpage.default"]);
    assertVerdict(verdict, "reviews.default");
    assert.equal(verdict.instance, REVIEWS_PODS[0]);
    assert.match(verdict.reason, /\(silent\)/);
  });

  it("names a slow dependency by its p95 against its baseline", async () => {
    const services = healthyBookinfo();
    services["ratings.default"] = { calls: 60, errors: 0, latencyMs: 2_000 };
    services["reviews.default"] = { instances: Object.fromEntries(REVIEWS_PODS.map((pod, i) => [pod, { calls: 30, errors: 0, latencyMs: i === 0 ? 9 : 2_010 }])) };
    const store = await meshWith({ services });
    const verdict = await find(store, ["productpage.default"]);
    assertVerdict(verdict, "ratings.default");
    const p95 = verdict.evidence.find((item) => item.metric === "p95");
    assert.ok(p95?.before !== undefined && p95.before < 5 && (p95.after ?? 0) > 1_900, JSON.stringify(p95));
  });

  it("finds nothing wrong in a healthy mesh", async () => {
    const store = await meshWith({ services: healthyBookinfo() });
    assert.equal(await find(store, ["productpage.default", "reviews.default"]), null);
  });

  it("ignores a dependency that was already as bad in its baseline", async () => {
    const chronic = healthyBookinfo();
    chronic["details.default"] = { calls: 90, errors: 9, latencyMs: 3 };
    const store = await meshWith({ services: chronic }, { services: chronic });
    assert.equal(await find(store, ["productpage.default"]), null);
  });
});
