import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { pino } from "pino";
import { outputsSection } from "../../../analyzer/outputs/config.ts";
import { AlarmRuleStore } from "../../../analyzer/rules/rule-store.ts";
import { buildApp } from "../../../core/http/app.ts";
import { analyzerHarness, logger, MINUTE_MS } from "../analyzer-harness.ts";

const DIST_FILE = readFileSync(join(import.meta.dirname, "../../fixtures/skywalking/dist-material-alarm-settings.yml"), "utf8");

describe("a SkyWalking alarm-settings.yml as the rules file", () => {
  it("starts with it unchanged, lists its inactive rules with the reason, and fires its rules on stored metrics", async () => {
    const harness = await analyzerHarness({ rulesYaml: DIST_FILE });
    const app = buildApp({ logger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: harness.analyzer.routes });
    await harness.start();
    try {
      const shown = (await app.inject({ method: "GET", url: "/api/v1/alarm-rules" })).json<{ source: string; rules: Array<{ name: string; format: string }>; inactive: Array<{ name: string; reason: string }> }>();
      assert.equal(shown.source, "file");
      assert.deepEqual(shown.rules.map((rule) => [rule.name, rule.format]), [
        ["service_resp_time_rule", "skywalking"],
        ["service_sla_rule", "skywalking"],
        ["service_resp_time_percentile_rule", "skywalking"],
        ["service_instance_resp_time_rule", "skywalking"],
      ]);
      assert.deepEqual(shown.inactive.map((rule) => rule.name), ["database_access_resp_time_rule", "endpoint_relation_resp_time_rule"]);
      assert.ok(shown.inactive.every((rule) => rule.reason.startsWith("meshsight ")), JSON.stringify(shown.inactive));

      // Whole minutes an hour ago: 75 % success in two of them, fast calls.
      const base = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
      await harness.writeMinute("reviews.default", base, { calls: 100, errors: 25 });
      await harness.writeMinute("reviews.default", base + MINUTE_MS, { calls: 100, errors: 25 });
      await harness.writeMinute("details.default", base + MINUTE_MS, { calls: 100, errors: 1 });
      const { fired } = await harness.analyzer.internals.runRound(base + MINUTE_MS + 30_000);
      assert.deepEqual(fired.map((record) => [record.alert.rule, record.alert.entity]), [["service_sla_rule", "reviews.default"]]);
      assert.equal(fired[0]?.alert.message, "Successful rate of service reviews.default is lower than 80% in 2 minutes of last 10 minutes");
      assert.deepEqual(fired[0]?.points.map((point) => point.v), [7_500, 7_500]);
    } finally {
      await app.close();
      await harness.stop();
    }
  });

  it("says at start which rules are inactive and why, and takes hook names as output names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshsight-sw-rules-"));
    const lines: string[] = [];
    const store = new AlarmRuleStore({ file: join(dir, "alarm-settings.yml"), logger: pino({ level: "info" }, { write: (line: string) => void lines.push(line) }), debounceMs: 10, onReload: () => undefined });
    try {
      writeFileSync(join(dir, "alarm-settings.yml"), DIST_FILE);
      await store.start();
      const inactive = lines.map((line) => JSON.parse(line) as { msg: string; rule?: string; reason?: string }).filter((line) => line.msg === "alarm rule inactive");
      assert.deepEqual(inactive.map((line) => line.rule), ["database_access_resp_time_rule", "endpoint_relation_resp_time_rule"]);
      assert.match(inactive[0]?.reason ?? "", /database_access_resp_time/);
    } finally {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const outputs = outputsSection.schema.parse({ targets: [{ name: "webhook.custom1", type: "skywalking", url: "http://receiver/alarm" }] });
    assert.equal(outputs.targets[0]?.name, "webhook.custom1", "a SkyWalking hook name is a valid output name");
  });
});
