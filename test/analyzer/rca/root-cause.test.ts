import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { assertVerdict, findRootCause as find, healthyBookinfo, MeshStores, REVIEWS_PODS } from "./bookinfo-cases.ts";

/**
 * Root-cause verdicts on exact minute metrics written to a real (embedded DuckDB) store: a bookinfo
 * mesh whose baseline is healthy, and a current window with one fault at a time.
 */

const stores = new MeshStores();
after(() => stores.closeAll());
const meshWith = stores.open.bind(stores);

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

  it("walks a call cycle once and still finds the service at its bottom", async () => {
    const cycle = [["a.default", "b.default"], ["b.default", "c.default"], ["c.default", "a.default"], ["c.default", "d.default"]] as const;
    const healthy = { "a.default": { calls: 60, errors: 0, latencyMs: 5 }, "b.default": { calls: 60, errors: 0, latencyMs: 5 }, "c.default": { calls: 60, errors: 0, latencyMs: 5 }, "d.default": { calls: 60, errors: 0, latencyMs: 5 } };
    const store = await meshWith(
      { services: { ...healthy, "a.default": { calls: 60, errors: 30, latencyMs: 5 }, "b.default": { calls: 60, errors: 30, latencyMs: 5 }, "d.default": { calls: 60, errors: 60, latencyMs: 5 } }, edges: cycle },
      { services: healthy, edges: cycle },
    );
    const verdict = await find(store, ["a.default"]);
    assertVerdict(verdict, "d.default");
    assert.deepEqual(verdict.path, ["a.default", "b.default", "c.default", "d.default"]);
  });

  it("gives a verdict when every unhealthy service sits in one cycle", async () => {
    const cycle = [["a.default", "b.default"], ["b.default", "a.default"]] as const;
    const healthy = { "a.default": { calls: 60, errors: 0, latencyMs: 5 }, "b.default": { calls: 60, errors: 0, latencyMs: 5 } };
    const store = await meshWith({ services: { "a.default": { calls: 60, errors: 20, latencyMs: 5 }, "b.default": { calls: 60, errors: 50, latencyMs: 5 } }, edges: cycle }, { services: healthy, edges: cycle });
    const verdict = await find(store, ["a.default"]);
    assertVerdict(verdict, "b.default");
    assert.match(verdict.reason, /its dependencies a\.default are unhealthy too/);
  });
});
