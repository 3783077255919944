import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AnalysisWindow, EntityWindow } from "../../../analyzer/health/analysis-window.ts";
import { findBreaches } from "../../../analyzer/rules/rule-evaluator.ts";
import { parseRuleFile } from "../../../analyzer/rules/rule-file.ts";
import { newDenseHistogram, toSparse } from "../../../core/model/histogram.ts";
import type { MetricValues } from "../../../core/model/metrics.ts";

const MINUTES = 3;

/** Every minute of the window: 10 calls, all failed. */
function failing(scope: EntityWindow["scope"], entity: string, labels: Record<string, string>): EntityWindow {
  const minute: MetricValues = { calls: 10, errors: 10, latencySumMs: 100, apdexSatisfied: 0, apdexTolerating: 0, bytesIn: 0, bytesOut: 0, histogram: toSparse(newDenseHistogram()) };
  return { scope, entity, service: labels.service ?? "", labels, minutes: new Array<MetricValues>(MINUTES).fill(minute), probes: new Array<undefined>(MINUTES).fill(undefined), calls: 10 * MINUTES };
}

const window: AnalysisWindow = {
  fromMs: Date.UTC(2026, 0, 1, 10, 0),
  toMs: Date.UTC(2026, 0, 1, 10, MINUTES),
  minuteCount: MINUTES,
  entities: {
    service: [failing("service", "UNKNOWN", { service: "UNKNOWN" }), failing("service", "productpage.default", { service: "productpage.default" })],
    instance: [],
    endpoint: [],
    relation: [
      failing("relation", "UNKNOWN to productpage.default", { service: "UNKNOWN", source: "UNKNOWN", destination: "productpage.default" }),
      failing("relation", "productpage.default to UNKNOWN", { service: "productpage.default", source: "productpage.default", destination: "UNKNOWN" }),
      failing("relation", "productpage.default to reviews.default", { service: "productpage.default", source: "productpage.default", destination: "reviews.default" }),
    ],
    probe: [],
  },
  skipped: { service: 0, instance: 0, endpoint: 0, relation: 0, probe: 0 },
};

describe("alarm rules and the entities they may name", () => {
  it("never fire on UNKNOWN or a relation from or to it, and a rule with empty regexes fires on every other entity", () => {
    const { rules } = parseRuleFile(
      [
        "rules:",
        "  - { name: service_sla, expression: sla < 95, scope: service, period: 2, include-names-regex: '', exclude-names-regex: '' }",
        "  - { name: relation_sla, expression: sla < 95, scope: relation, period: 2, exclude-names-regex: '' }",
        "",
      ].join("\n"),
      "rules.yaml",
    );
    const fired = findBreaches(rules, window).map((breach) => `${breach.rule.name}: ${breach.entity.entity}`);
    assert.deepEqual(fired, ["service_sla: productpage.default", "relation_sla: productpage.default to reviews.default"]);
  });
});
