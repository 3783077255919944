import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { standingNotifications } from "../../../analyzer/alerts/notification-policy.ts";
import type { RootCause } from "../../../core/model/alert.ts";
import { analyzerHarness, MINUTE_MS } from "../analyzer-harness.ts";

/** Whole minutes an hour ago: the window arithmetic is exact and nothing else writes there. */
const BASE = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
const minute = (index: number): number => BASE + index * MINUTE_MS;
/** A round in the middle of minute `index`: its window ends with that minute. */
const during = (index: number, seconds = 30): number => minute(index) + seconds * 1_000;

const RULES = `rules:
  - name: sla_low
    expression: sla < 95
    period: 3
    count: 2
    silence-period: 2
    recovery-observation-period: 2
    message: "{name} sla {value}% < {threshold}% in {breaching} of {period} minutes"
    labels: { severity: critical }
    outputs: [pager]
`;

describe("alert lifecycle", () => {
  it("fires after count breaching minutes in the period, reminds at most every silence-period, resolves after the recovery observation", async () => {
    const harness = await analyzerHarness({ rulesYaml: RULES });
    const { analyzer, dispatcher } = harness;
    await harness.start();
    try {
      const round = (index: number, seconds?: number) => analyzer.internals.runRound(during(index, seconds));
      await harness.writeMinute("web.default", minute(0), { calls: 100 });
      await harness.writeMinute("web.default", minute(1), { calls: 100, errors: 20 });
      assert.deepEqual((await round(1)).fired, [], "one breaching minute of the two needed");

      await harness.writeMinute("web.default", minute(2), { calls: 100, errors: 30 });
      const fired = (await round(2)).fired;
      assert.equal(fired.length, 1);
      const alert = fired[0]!.alert;
      assert.equal(alert.entity, "web.default");
      assert.equal(alert.state, "firing");
      assert.equal(alert.startsAtMs, during(2));
      assert.equal(alert.message, "web.default sla 70% < 95% in 2 of 3 minutes");
      assert.deepEqual(alert.labels, { severity: "critical", service: "web.default", alertname: "sla_low", scope: "service", entity: "web.default" });
      assert.deepEqual(dispatcher.sent.map((each) => [each.change, each.outputs]), [["firing", ["pager"]]]);

      await round(2, 50);
      await harness.writeMinute("web.default", minute(3), { calls: 100 });
      await round(3);
      assert.deepEqual(dispatcher.changes(), ["firing sla_low web.default"], "no reminder within the silence period");

      for (const index of [4, 5, 6]) await harness.writeMinute("web.default", minute(index), { calls: 100 });
      const recovering = await round(4);
      assert.deepEqual(recovering.resolved, [], "clear for less than the recovery observation period");
      assert.deepEqual(dispatcher.changes(), ["firing sla_low web.default", "reminder sla_low web.default"]);
      await round(5);
      const resolved = (await round(6)).resolved;
      assert.equal(resolved.length, 1);
      assert.equal(resolved[0]!.alert.id, alert.id, "the same alert resolves (dedupe by rule and entity)");
      assert.equal(resolved[0]!.alert.endsAtMs, during(6));
      assert.deepEqual(dispatcher.changes(), ["firing sla_low web.default", "reminder sla_low web.default", "resolved sla_low web.default"]);
      const timeline = analyzer.internals.book.get(alert.id)!.timeline.map((event) => event.event);
      assert.deepEqual(timeline, ["firing", "incident", "notified", "recovering", "resolved", "notified"]);

      // A new episode: a new id, the same fingerprint.
      await harness.writeMinute("web.default", minute(7), { calls: 100, errors: 50 });
      await harness.writeMinute("web.default", minute(8), { calls: 100, errors: 50 });
      const again = (await round(8)).fired[0]!;
      assert.notEqual(again.alert.id, alert.id);
      assert.equal(again.fingerprint, fired[0]!.fingerprint);
      assert.deepEqual(analyzer.internals.book.list().map((record) => record.alert.state), ["firing", "resolved"]);
    } finally {
      await harness.stop();
    }
  });

  it("dedupes per entity, ignores entities without data, and resolves when the rule is removed", async () => {
    const harness = await analyzerHarness({ rulesYaml: "rules:\n  - name: errors_high\n    expression: errors >= 5\n    period: 1\n    exclude-names-regex: '^canary'\n" });
    const { analyzer, dispatcher } = harness;
    await harness.start();
    try {
      for (const service of ["a.default", "b.default", "canary.default"]) await harness.writeMinute(service, minute(0), { calls: 10, errors: 5 });
      await harness.writeMinute("c.default", minute(0), { calls: 10, errors: 1 });
      await analyzer.internals.runRound(during(0, 10));
      await analyzer.internals.runRound(during(0, 40));
      assert.deepEqual(analyzer.internals.book.firing().map((record) => record.alert.entity).sort(), ["a.default", "b.default"]);
      assert.deepEqual(dispatcher.changes().sort(), ["firing errors_high a.default", "firing errors_high b.default"], "without a silence-period no reminders");

      await analyzer.internals.rules.replace("rules: []\n");
      const changes = await analyzer.internals.runRound(during(0, 50));
      assert.equal(changes.resolved.length, 2);
      assert.ok(changes.resolved.every((record) => record.timeline.some((event) => event.detail === "rule removed")));
    } finally {
      await harness.stop();
    }
  });

  it("puts the root cause on a new alert, asks once per service and round, and survives a failing finder", async () => {
    const asked: string[][] = [];
    let isFailing = true;
    const harness = await analyzerHarness({
      rulesYaml: "rules:\n  - name: slow\n    expression: p99 > 100\n    period: 1\n  - name: failing\n    expression: sla < 90\n    period: 1\n",
      rootCauses: {
        find: (request) => {
          asked.push([...request.symptomaticServices, String(request.windowMinutes)]);
          if (isFailing) return Promise.reject(new Error("storage hiccup"));
          return Promise.resolve({ service: "db.default", instance: "", score: 0.9, reason: "db answers 503", evidence: [{ kind: "metric", summary: "error rate 0% -> 100%", ref: "db.default" }] });
        },
      },
    });
    await harness.start();
    try {
      await harness.writeMinute("web.default", minute(0), { calls: 10, errors: 5, latencyMs: 500 });
      const first = await harness.analyzer.internals.runRound(during(0));
      assert.equal(first.fired.length, 2);
      assert.deepEqual(asked, [["web.default", "5"]], "one analysis for both alerts of web.default");
      assert.ok(first.fired.every((record) => record.alert.rootCause === null), "a failing finder leaves the alert without a verdict");
      isFailing = false;
      await harness.analyzer.internals.runRound(during(0, 40));
      const records = harness.analyzer.internals.book.firing();
      assert.ok(records.every((record) => record.alert.rootCause?.service === "db.default"));
      assert.ok(records[0]!.timeline.some((event) => event.event === "root-cause" && event.detail.startsWith("db.default")));
      const repeats = standingNotifications(records);
      assert.ok(repeats.length === 2 && repeats.every((each) => each.change === "repeat" && each.alert.rootCause?.service === "db.default"), "re-sends carry the verdict");
    } finally {
      await harness.stop();
    }
  });

  it("asks again every round while firing: a changed or sharpened cause is recorded and sent as updated, a vaguer or missing one keeps the verdict", async () => {
    const verdict = (service: string, instance = ""): RootCause => ({ service, instance, score: 0.9, reason: `${service} fails`, evidence: [] });
    // What the finder answers round after round.
    const answers: (RootCause | null)[] = [null, verdict("db.default"), verdict("db.default"), verdict("db.default", "db-1.default"), verdict("db.default"), null, verdict("cache.default")];
    const harness = await analyzerHarness({
      rulesYaml: "rules:\n  - name: failing\n    expression: sla < 90\n    period: 1\n",
      rootCauses: { find: () => Promise.resolve(answers.shift() ?? null) },
    });
    await harness.start();
    try {
      await harness.writeMinute("web.default", minute(0), { calls: 10, errors: 5 });
      for (let round = 0; round < 7; round++) await harness.analyzer.internals.runRound(during(0, 10 + round));
      const [record] = harness.analyzer.internals.book.firing();
      assert.equal(record?.alert.rootCause?.service, "cache.default");
      const causeEvents = record.timeline.filter((event) => event.event.startsWith("root-cause")).map((event) => `${event.event} ${event.detail}`);
      assert.deepEqual(causeEvents, [
        "root-cause db.default: db.default fails",
        "root-cause-refined sharpened: db.default -> db.default (db-1.default): db.default fails",
        "root-cause-refined changed: db.default (db-1.default) -> cache.default: cache.default fails",
      ]);
      assert.deepEqual(harness.dispatcher.changes(), ["firing failing web.default", "updated failing web.default", "updated failing web.default"]);
      const updates = harness.dispatcher.sent.filter((each) => each.change === "updated").map((each) => [each.alert.rootCause?.service, each.alert.rootCause?.instance]);
      assert.deepEqual(updates, [["db.default", "db-1.default"], ["cache.default", ""]]);
    } finally {
      await harness.stop();
    }
  });

  it("notes in a new alert's timeline that it began shortly after the alarm rules were reloaded, never after the load it started with", async () => {
    let nowMs = during(0, 5);
    const harness = await analyzerHarness({ rulesYaml: "rules:\n  - name: failing\n    expression: sla < 90\n    period: 1\n", now: () => nowMs });
    await harness.start();
    try {
      await harness.writeMinute("web.default", minute(0), { calls: 10, errors: 5 });
      const [first] = (await harness.analyzer.internals.runRound(nowMs)).fired;
      assert.deepEqual(first?.timeline.filter((event) => event.event === "change"), [], "the rules the process started with");
      const reloadedAtMs = nowMs + 1_000;
      nowMs = reloadedAtMs;
      await harness.analyzer.internals.rules.replace("rules:\n  - name: failing_now\n    expression: sla < 95\n    period: 1\n");
      nowMs = reloadedAtMs + 40_000;
      const [second] = (await harness.analyzer.internals.runRound(nowMs)).fired;
      assert.equal(second?.alert.rule, "failing_now");
      assert.deepEqual(second.timeline.filter((event) => event.event === "change").map((event) => event.detail), [`began 40 s after the alarm rules were reloaded (api) at ${new Date(reloadedAtMs).toISOString()}`]);
    } finally {
      await harness.stop();
    }
  });
});
