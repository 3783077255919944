import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EntityHealth } from "../../../analyzer/health/health-model.ts";
import { serviceOfTarget } from "../../../analyzer/health/probe-window.ts";
import { buildApp } from "../../../core/http/app.ts";
import { parsePromText, sampleValue } from "../../prober/api/prom-text.ts";
import { analyzerHarness, logger, MINUTE_MS } from "../analyzer-harness.ts";

const BASE = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 30 * MINUTE_MS;
const NOW = BASE + 4 * MINUTE_MS + 30_000;
const minutes = [0, 1, 2, 3, 4].map((index) => BASE + index * MINUTE_MS);

const RULES = `rules:
  - name: probe_failing
    expression: probe_success_rate < 100
    scope: probe
    period: 5
    count: 2
health:
  services:
    tolerant.default: { latency-degraded-ms: 2000 }
`;

describe("health model", () => {
  it("judges SLA, latency, error bursts and probes per service, with per-service thresholds, and exports a bounded gauge", async () => {
    const harness = await analyzerHarness({ rulesYaml: RULES, config: { healthWindowMinutes: 5 } });
    const app = buildApp({ logger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: harness.analyzer.routes });
    await harness.start();
    try {
      for (const minute of minutes) {
        await harness.writeMinute("good.default", minute, { calls: 100 });
        await harness.writeMinute("failing.default", minute, { calls: 100, errors: 10 });
        await harness.writeMinute("slow.default", minute, { calls: 100, latencyMs: 1_500 });
        await harness.writeMinute("tolerant.default", minute, { calls: 100, latencyMs: 1_500 });
        await harness.writeMinute("probed.default", minute, { calls: 100 });
        await harness.writeMinute("burst.default", minute, minute === minutes[2] ? { calls: 100, errors: 25 } : { calls: 1_000 });
      }
      // No service on the case: the target host names probed.default. One failure in four runs, in two minutes.
      await harness.writeProbeRuns("health-check", "http://probed.default.svc.cluster.local:9080/health", minutes[1]!, [true, false]);
      await harness.writeProbeRuns("health-check", "http://probed.default.svc.cluster.local:9080/health", minutes[3]!, [true, false]);
      await harness.writeProbeRuns("dns-check", "db.internal:53", minutes[3]!, [true], "good.default");

      const changes = await harness.analyzer.internals.runRound(NOW);
      const health = (await app.inject({ method: "GET", url: "/api/v1/health?scope=service" })).json<{ entities: EntityHealth[] }>();
      const byName = new Map(health.entities.map((entity) => [entity.entity, entity]));
      assert.deepEqual(
        Object.fromEntries([...byName].map(([name, entity]) => [name, entity.state])),
        { "good.default": "healthy", "failing.default": "unhealthy", "slow.default": "degraded", "tolerant.default": "healthy", "probed.default": "unhealthy", "burst.default": "degraded" },
      );
      assert.deepEqual(byName.get("failing.default")?.reasons, ["sla 90% < 95%"]);
      assert.equal(byName.get("probed.default")?.probeSuccessRate, 50);
      assert.equal(byName.get("good.default")?.probeSuccessRate, 100, "a case's declared service wins over its target");
      assert.match(byName.get("burst.default")?.reasons[0] ?? "", /error burst: 25 of 100 calls/);

      const probeAlert = changes.fired.find((record) => record.alert.scope === "probe");
      assert.equal(probeAlert?.alert.entity, "health-check on http://probed.default.svc.cluster.local:9080/health");
      assert.equal(probeAlert?.alert.labels.service, "probed.default");

      const samples = parsePromText((await app.inject({ method: "GET", url: "/metrics" })).body);
      const gauge = (service: string) => sampleValue(samples, "meshsight_service_health", { service });
      assert.deepEqual([gauge("good.default"), gauge("slow.default"), gauge("failing.default")], [1, 2, 3]);
      assert.equal(sampleValue(samples, "meshsight_analyzer_rounds_total", { result: "ok" }), undefined, "rounds run by hand are not loop rounds");
    } finally {
      await app.close();
      await harness.stop();
    }
  });

  it("analyzes at most maxEntitiesPerScope busiest entities per round and counts the rest", async () => {
    const harness = await analyzerHarness({ config: { maxEntitiesPerScope: 2, maxHealthSeries: 1 } });
    await harness.start();
    try {
      for (const [service, calls] of [["a.default", 10], ["b.default", 30], ["c.default", 20]] as const) await harness.writeMinute(service, minutes[4]!, { calls, errors: calls });
      await harness.analyzer.internals.runRound(NOW);
      const report = harness.analyzer.internals.round.latestHealth();
      assert.deepEqual(report?.entities.map((entity) => entity.entity), ["b.default", "c.default"]);
      assert.equal(report?.skipped.service, 1);
      const samples = parsePromText(await harness.registry.metrics());
      assert.equal(sampleValue(samples, "meshsight_analyzer_skipped_entities_total", { scope: "service" }), 1);
      assert.equal(samples.filter((sample) => sample.name === "meshsight_service_health").length, 1, "the gauge's cardinality is capped");
    } finally {
      await harness.stop();
    }
  });

  it("maps probe targets to known services by host", () => {
    const known = ["reviews.default", "reviews.staging", "ratings.default"];
    assert.equal(serviceOfTarget("http://reviews.default.svc.cluster.local:9080/", known), "reviews.default");
    assert.equal(serviceOfTarget("ratings:9080", known), "ratings.default");
    assert.equal(serviceOfTarget("reviews:9080", known), "", "ambiguous across namespaces");
    assert.equal(serviceOfTarget("https://example.com/", known), "");
  });
});
