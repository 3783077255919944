import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_RULES_YAML } from "../../../analyzer/rules/default-rules.ts";
import { parseRuleFile, RuleFileError } from "../../../analyzer/rules/rule-file.ts";
import { ruleAppliesTo } from "../../../analyzer/rules/rule.ts";
import { thresholdsFor } from "../../../analyzer/health/thresholds.ts";

const rejects = (text: string, message: RegExp): void => {
  assert.throws(() => parseRuleFile(text, "rules.yaml"), (error: unknown) => error instanceof RuleFileError && message.test(error.message), message.source);
};

describe("alarm rules file", () => {
  it("ships default rules that load: service SLA, service p99, regressions against the baseline, relation SLA and probe success", () => {
    const { rules } = parseRuleFile(DEFAULT_RULES_YAML, "defaults");
    assert.deepEqual(rules.map((rule) => [rule.scope, rule.expression.source]), [
      ["service", "sla < 95"],
      ["service", "p99 > 1000"],
      ["service", "p95 > max(3 * baseline(p95), 250)"],
      ["service", "100 - sla > max(5 * (100 - baseline(sla)), 1)"],
      ["relation", "sla < 95"],
      ["probe", "probe_success_rate < 100"],
    ]);
  });

  it("reads every field with SkyWalking's names and fills defaults", () => {
    const { rules, health } = parseRuleFile(
      [
        "rules:",
        "  - name: endpoint_slow",
        "    expression: avg(p95) > 800",
        "    scope: endpoint",
        "    include-names-regex: '.* in reviews\\.default$'",
        "    exclude-names: ['GET:/health in reviews.default']",
        "    period: 10",
        "    count: 3",
        "    silence-period: 5",
        "    recovery-observation-period: 2",
        "    message: '{name} is slow: {value} > {threshold}'",
        "    labels: { severity: warning, team: books }",
        "    outputs: [slack]",
        "  - name: minimal",
        "    expression: sla < 99",
        "health:",
        "  defaults: { sla-degraded: 98 }",
        "  services:",
        "    ratings.default: { latency-degraded-ms: 50 }",
      ].join("\n"),
      "rules.yaml",
    );
    const [slow, minimal] = rules;
    assert.equal(slow?.scope, "endpoint");
    assert.equal(slow?.periodMinutes, 10);
    assert.equal(slow?.count, 3);
    assert.equal(slow?.silencePeriodMinutes, 5);
    assert.equal(slow?.recoveryObservationMinutes, 2);
    assert.deepEqual(slow?.labels, { severity: "warning", team: "books" });
    assert.deepEqual(slow?.outputs, ["slack"]);
    assert.equal(ruleAppliesTo(slow, "GET:/reviews/{id} in reviews.default"), true);
    assert.equal(ruleAppliesTo(slow, "GET:/health in reviews.default"), false);
    assert.equal(ruleAppliesTo(slow, "GET:/details/{id} in details.default"), false);
    assert.deepEqual([minimal?.scope, minimal?.periodMinutes, minimal?.count, minimal?.silencePeriodMinutes, minimal?.outputs], ["service", 5, 1, 0, []]);
    assert.equal(thresholdsFor(health, "ratings.default")["latency-degraded-ms"], 50);
    assert.equal(thresholdsFor(health, "ratings.default")["sla-degraded"], 98);
    assert.equal(thresholdsFor(health, "reviews.default")["latency-degraded-ms"], 1_000);
  });

  it("names the file, the line and the reason of every error", () => {
    rejects("rules:\n  - name: a\n    expression: sla <\n", /^rules\.yaml:3: rules\.0\.expression: expected a number/);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n    perod: 3\n", /^rules\.yaml:4: rules\.0\.perod: Unrecognized key/);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n  - name: b\n    expression: sla < 1\n    period: soon\n", /^rules\.yaml:6: rules\.1\.period: .*expected number/);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n    period: 2\n    count: 3\n", /^rules\.yaml:5: rules\.0\.count: count must not exceed period/);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n    scope: cluster\n", /^rules\.yaml:4: rules\.0\.scope: /);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n    include-names-regex: '(('\n", /^rules\.yaml:4: .*not a valid regular expression/);
    rejects("rules:\n  - name: a\n    expression: sla < 1\n  - name: a\n    expression: cpm < 1\n", /^rules\.yaml:4: rule "a" is already defined at line 2/);
    rejects("rules:\n  - name: p\n    scope: probe\n    expression: p99 > 1\n", /^rules\.yaml:4: .*scope probe has no p99/);
    rejects("rules:\n  - name: a\n  expression: [\n", /^rules\.yaml:\d+: not valid YAML/);
    rejects("rules:\n  - expression: sla < 1\n", /^rules\.yaml:2: rules\.0\.name: /);
    rejects("health:\n  services:\n    a.default:\n      sla-degraded: 200\n", /^rules\.yaml:4: health\.services\.a\.default\.sla-degraded: /);
  });

  it("takes an empty file as no rules", () => {
    assert.deepEqual(parseRuleFile("", "rules.yaml").rules, []);
  });
});
