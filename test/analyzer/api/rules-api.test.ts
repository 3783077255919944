import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { buildApp } from "../../../core/http/app.ts";
import { waitFor } from "../../support/wait-for.ts";
import { parsePromText, sampleValue } from "../../prober/api/prom-text.ts";
import { analyzerHarness, logger } from "../analyzer-harness.ts";

const GOOD = "rules:\n  - name: cpm_low\n    expression: cpm < 1\n    scope: endpoint\n";
const BAD = "rules:\n  - name: cpm_low\n    expression: cpm < 1\n    period: 0\n";

describe("alarm rules API and file reload", () => {
  it("serves the built-in rules until a file exists, replaces them by PUT, rejects a bad body with its line, and reloads the file", async () => {
    const harness = await analyzerHarness();
    const app = buildApp({ logger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: harness.analyzer.routes });
    await harness.start();
    const ruleNames = async (): Promise<string[]> => (await app.inject({ method: "GET", url: "/api/v1/alarm-rules" })).json<{ rules: { name: string }[] }>().rules.map((rule) => rule.name);
    const reloads = async (result: string): Promise<number> => sampleValue(parsePromText((await app.inject({ method: "GET", url: "/metrics" })).body), "meshsight_alarm_rule_reloads_total", { result }) ?? 0;
    try {
      const initial = (await app.inject({ method: "GET", url: "/api/v1/alarm-rules" })).json<{ source: string; yaml: string }>();
      assert.equal(initial.source, "defaults");
      assert.deepEqual(await ruleNames(), ["service_sla_low", "service_p99_high", "service_latency_regression", "service_error_regression", "relation_sla_low", "probe_failing"]);
      const asYaml = await app.inject({ method: "GET", url: "/api/v1/alarm-rules", headers: { accept: "application/yaml" } });
      assert.equal(asYaml.body, initial.yaml);

      const put = await app.inject({ method: "PUT", url: "/api/v1/alarm-rules", headers: { "content-type": "application/yaml" }, payload: GOOD });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json<{ source: string }>().source, "api");
      assert.equal(await readFile(harness.rulesFile, "utf8"), GOOD, "PUT writes the rules file, so a restart keeps them");

      const rejected = await app.inject({ method: "PUT", url: "/api/v1/alarm-rules", headers: { "content-type": "text/yaml" }, payload: BAD });
      assert.equal(rejected.statusCode, 400);
      const error = rejected.json<{ error: { code: string; message: string } }>().error;
      assert.equal(error.code, "MS_INVALID_ALARM_RULES");
      assert.match(error.message, /previous rules stay in force: PUT \/api\/v1\/alarm-rules:4: rules\.0\.period: /);
      assert.deepEqual(await ruleNames(), ["cpm_low"]);
      const json = await app.inject({ method: "PUT", url: "/api/v1/alarm-rules", payload: { rules: [] } });
      assert.equal(json.json<{ error: { code: string } }>().error.code, "MS_UNSUPPORTED_MEDIA_TYPE");

      // The file: a bad edit is rejected (counted, logged) and the rules in force stay; a good one applies.
      const rejectedBefore = await reloads("rejected");
      await writeFile(harness.rulesFile, BAD);
      await waitFor(async () => (await reloads("rejected")) > rejectedBefore, "the bad file to be rejected");
      assert.deepEqual(await ruleNames(), ["cpm_low"]);
      await writeFile(harness.rulesFile, "rules:\n  - name: from_file\n    expression: sla < 50\n");
      await waitFor(async () => (await ruleNames()).includes("from_file"), "the edited file to be applied");
      assert.equal(harness.analyzer.internals.rules.current().source, "file");
      await writeFile(harness.rulesFile, "\n");
      await harness.analyzer.internals.rules.reload();
      assert.deepEqual(await ruleNames(), ["from_file"], "a blank file (a writer mid-write) keeps the rules in force");
      await rm(harness.rulesFile);
      await harness.analyzer.internals.rules.reload();
      assert.deepEqual(await ruleNames(), ["from_file"], "deleting the file keeps the rules in force");
    } finally {
      await app.close();
      await harness.stop();
    }
  });

  it("fails start on a bad rules file, naming file and line", async () => {
    const harness = await analyzerHarness({ rulesYaml: "rules:\n  - name: x\n    expression: sla < 1\n    scope: galaxy\n" });
    try {
      await assert.rejects(harness.start(), (error: Error) => error.message.startsWith(`${harness.rulesFile}:4: rules.0.scope:`));
    } finally {
      await harness.stop();
    }
  });
});
