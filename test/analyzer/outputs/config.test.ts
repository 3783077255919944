import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../../core/config/config-error.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { outputsSection } from "../../../analyzer/outputs/config.ts";

const sections = { outputs: outputsSection };
const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(argv, env, sections).outputs;

describe("outputs config", () => {
  it("has working defaults: no outputs, retries with backoff, a bounded log", () => {
    const config = load({});
    assert.deepEqual(config.targets, []);
    assert.equal(config.retryAttempts, 6);
    assert.equal(config.retryBackoffMs, 2_000);
    assert.equal(config.deliveryLogSize, 1_000);
    assert.equal(config.alertmanagerResendIntervalMs, 60_000);
    assert.equal(config.publicUrl, "http://localhost:8080");
  });

  it("reads the outputs as a YAML list, and as a JSON array from env, with per-output defaults", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshsight-outputs-"));
    try {
      const file = join(dir, "meshsight.yaml");
      await writeFile(
        file,
        [
          "outputs:",
          "  publicUrl: https://meshsight.example",
          "  targets:",
          "    - name: oncall",
          "      type: slack",
          "      url: https://hooks.slack.com/services/T/B/x",
          "    - name: sre-ding",
          "      type: dingtalk",
          "      url: https://oapi.dingtalk.com/robot/send?access_token=t",
          "      secret: SECabc",
          "      timeoutMs: 3000",
          "      notify: incident",
        ].join("\n"),
      );
      const fromFile = load({ MESHSIGHT_CONFIG: file });
      assert.equal(fromFile.publicUrl, "https://meshsight.example");
      assert.deepEqual(fromFile.targets, [
        { name: "oncall", type: "slack", url: "https://hooks.slack.com/services/T/B/x", headers: {}, timeoutMs: 10_000, notify: "alert" },
        { name: "sre-ding", type: "dingtalk", url: "https://oapi.dingtalk.com/robot/send?access_token=t", secret: "SECabc", headers: {}, timeoutMs: 3_000, notify: "incident" },
      ]);
      const fromEnv = load({ MESHSIGHT_CONFIG: file, MESHSIGHT_ALERT_OUTPUTS: '[{"name":"am","type":"alertmanager","url":"http://am:9093","headers":{"X-Scope-OrgID":"t1"}}]' });
      assert.deepEqual(fromEnv.targets, [{ name: "am", type: "alertmanager", url: "http://am:9093", headers: { "X-Scope-OrgID": "t1" }, timeoutMs: 10_000, notify: "alert" }]);
      const fromFlag = load({}, ["--alert-output-retry-attempts", "2"]);
      assert.equal(fromFlag.retryAttempts, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects bad outputs with the key, the value's origin and what was expected", () => {
    const invalid = (value: string, expected: RegExp) => {
      assert.throws(() => load({ MESHSIGHT_ALERT_OUTPUTS: value }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /outputs\.targets/);
        assert.match(error.message, /MESHSIGHT_ALERT_OUTPUTS/);
        assert.match(error.message, expected);
        return true;
      });
    };
    invalid("slack://nope", /expected a list of outputs/);
    invalid('[{"name":"x","type":"pagerduty","url":"http://a"}]', /expected one of webhook, skywalking, alertmanager, slack, dingtalk, feishu/);
    invalid('[{"name":"x","type":"slack","url":"ftp://a"}]', /expected the receiver URL/);
    invalid('[{"name":"x","type":"slack","url":"http://a","secret":"s"}]', /secret is only used by types webhook, dingtalk, feishu/);
    invalid('[{"name":"x","type":"slack","url":"http://a"},{"name":"x","type":"webhook","url":"http://b"}]', /output names must be unique/);
    invalid('[{"name":"has space","type":"slack","url":"http://a"}]', /output name of 1-64/);
    invalid('[{"name":"x","type":"slack","url":"http://a","color":"red"}]', /color/);
    invalid('[{"name":"x","type":"alertmanager","url":"http://a","notify":"incident"}]', /notify: incident is only for types webhook, slack, dingtalk, feishu/);
    invalid('[{"name":"x","type":"webhook","url":"http://a","notify":"fault"}]', /expected notify: alert or incident/);
  });
});
