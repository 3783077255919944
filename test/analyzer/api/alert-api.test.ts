import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../core/http/app.ts";
import { parsePromText, sampleValue } from "../../prober/api/prom-text.ts";
import { analyzerHarness, logger, MINUTE_MS, type Harness } from "../analyzer-harness.ts";

const BASE = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 30 * MINUTE_MS;
const RULES = "rules:\n  - name: errors_high\n    expression: errors / calls * 100 > 10\n    period: 1\n    labels: { team: web }\n";

function appFor(harness: Harness): FastifyInstance {
  return buildApp({ logger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: harness.analyzer.routes });
}

async function metrics(app: FastifyInstance): Promise<ReturnType<typeof parsePromText>> {
  return parsePromText((await app.inject({ method: "GET", url: "/metrics" })).body);
}

describe("alerts and silences API", () => {
  it("lists alerts with state, shows one with evidence and timeline, silences by matchers, and keeps both across restarts", async () => {
    let clock = BASE + 30_000;
    const harness = await analyzerHarness({ rulesYaml: RULES, now: () => clock });
    const app = appFor(harness);
    await harness.start();
    try {
      await harness.writeMinute("a.default", BASE, { calls: 100, errors: 50 });
      await harness.writeMinute("b.default", BASE, { calls: 100, errors: 20 });

      const badSilences: Record<string, unknown>[] = [
        { matchers: [], durationMinutes: 5 },
        { matchers: [{ name: "entity", value: "((", isRegex: true }], durationMinutes: 5 },
        { matchers: [{ name: "entity", value: "a.default" }] },
        { matchers: [{ name: "entity", value: "a.default" }], endsAt: "2000-01-01T00:00:00Z" },
      ];
      for (const payload of badSilences) {
        const response = await app.inject({ method: "POST", url: "/api/v1/silences", payload });
        assert.equal(response.statusCode, 400, JSON.stringify(payload));
      }
      const created = await app.inject({ method: "POST", url: "/api/v1/silences", payload: { matchers: [{ name: "entity", value: "a\\..*", isRegex: true }, { name: "team", value: "web" }], durationMinutes: 10, createdBy: "oncall", comment: "known" } });
      assert.equal(created.statusCode, 201, created.body);
      const silence = created.json<{ id: string; endsAt: string }>();
      assert.equal(silence.endsAt, new Date(clock + 10 * MINUTE_MS).toISOString());

      await harness.analyzer.internals.runRound(clock);
      assert.deepEqual(harness.dispatcher.changes(), ["firing errors_high b.default"], "the silenced alert is not dispatched");
      const firing = (await app.inject({ method: "GET", url: "/api/v1/alerts?state=firing" })).json<Array<{ id: string; entity: string; silenced: boolean; startsAt: string; endsAt: string | null }>>();
      assert.deepEqual(firing.map((alert) => [alert.entity, alert.silenced]).sort(), [["a.default", true], ["b.default", false]]);
      assert.equal(firing[0]!.endsAt, null);
      let samples = await metrics(app);
      assert.equal(sampleValue(samples, "meshsight_alerts", { state: "firing" }), 1);
      assert.equal(sampleValue(samples, "meshsight_alerts", { state: "silenced" }), 1);
      assert.equal(sampleValue(samples, "meshsight_alert_notifications_total", { change: "firing", result: "silenced" }), 1);

      const silencedId = firing.find((alert) => alert.entity === "a.default")!.id;
      const detail = (await app.inject({ method: "GET", url: `/api/v1/alerts/${silencedId}` })).json<{ value: number; threshold: number; silencedBy: string[]; evidence: { metric: { t: number; v: number }[] }; timeline: { event: string }[] }>();
      assert.deepEqual([detail.value, detail.threshold], [50, 10]);
      assert.deepEqual(detail.silencedBy, [silence.id]);
      assert.deepEqual(detail.evidence.metric, [{ t: BASE, v: 50 }]);
      assert.deepEqual(detail.timeline.map((event) => event.event), ["firing", "silenced", "incident"]);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/alerts/nope" })).json<{ error: { code: string } }>().error.code, "MS_NOT_FOUND");
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/alerts?state=open" })).statusCode, 400);

      // The state file keeps alerts and silences: a restarted analyzer knows both.
      await harness.analyzer.components.find((component) => component.name === "analyzer.state")!.stop();
      const restarted = await analyzerHarness({ rulesYaml: RULES, now: () => clock, config: { stateFile: join(harness.dir, "state.json") } });
      await restarted.start();
      assert.deepEqual(restarted.analyzer.internals.book.firing().map((record) => record.alert.id).sort(), firing.map((alert) => alert.id).sort());
      assert.deepEqual(restarted.analyzer.internals.silences.snapshot().map((each) => each.id), [silence.id]);
      await restarted.stop();

      clock += 10_000;
      assert.equal((await app.inject({ method: "DELETE", url: `/api/v1/silences/${silence.id}` })).statusCode, 204);
      assert.equal((await app.inject({ method: "DELETE", url: "/api/v1/silences/nope" })).statusCode, 404);
      const listed = (await app.inject({ method: "GET", url: "/api/v1/silences" })).json<Array<{ id: string; state: string }>>();
      assert.deepEqual(listed.map((each) => [each.id, each.state]), [[silence.id, "expired"]]);
      samples = await metrics(app);
      assert.equal(sampleValue(samples, "meshsight_alerts", { state: "firing" }), 2, "expiring a silence updates the gauge at once");
      await harness.analyzer.internals.runRound(clock);
      assert.ok(harness.dispatcher.changes("a.default").includes("firing errors_high a.default"), "once unsilenced, receivers hear of it as firing");
    } finally {
      await app.close();
      await harness.stop();
    }
  });
});
