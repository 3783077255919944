import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compare, evaluateValue, ExpressionError, parseRuleExpression, type MinuteMetricReader } from "../../../analyzer/rules/expression.ts";

/** Evaluates the left side for each minute of a period given per-minute metric values. */
function leftSide(source: string, perMinute: Record<string, (number | undefined)[]>): number[] {
  const expression = parseRuleExpression(source);
  const minutes = Object.values(perMinute)[0]?.length ?? 1;
  const read: MinuteMetricReader = (index, metric) => perMinute[metric]?.[index];
  return Array.from({ length: minutes }, (_, index) => evaluateValue(expression.left, read, index, minutes));
}

describe("rule expressions", () => {
  it("parses comparisons with arithmetic, precedence and parentheses", () => {
    const expression = parseRuleExpression("errors / calls * 100 > 5");
    assert.equal(expression.comparison, ">");
    assert.deepEqual([...expression.metrics].sort(), ["calls", "errors"]);
    assert.deepEqual(leftSide("errors / calls * 100 > 5", { errors: [1, 0], calls: [10, 4] }), [10, 0]);
    assert.deepEqual(leftSide("(1 + 2) * 3 - -1 >= 0", { cpm: [1] }), [10]);
    assert.deepEqual(leftSide("1 + 2 * 3 == 7", { cpm: [1] }), [7]);
  });

  it("aggregates over the whole period and leaves missing minutes out", () => {
    const data = { cpm: [10, undefined, 30] };
    assert.deepEqual(leftSide("avg(cpm) < 1", data), [20, 20, 20]);
    assert.deepEqual(leftSide("max(cpm) < 1", data), [30, 30, 30]);
    assert.deepEqual(leftSide("min(cpm) < 1", data), [10, 10, 10]);
    assert.deepEqual(leftSide("sum(cpm) < 1", data), [40, 40, 40]);
    assert.ok(Number.isNaN(leftSide("cpm < 1", data)[1]!), "a minute without data is NaN, not 0");
  });

  it("never breaches on missing data or a zero denominator", () => {
    assert.equal(compare(Number.NaN, "<", 1), false);
    assert.equal(compare(1, "!=", Number.NaN), false);
    assert.ok(Number.isNaN(leftSide("errors / calls > 0", { errors: [0], calls: [0] })[0]!));
    assert.equal(compare(94, "<", 95), true);
    assert.equal(compare(95, "<", 95), false);
    assert.equal(compare(95, "<=", 95), true);
  });

  it("reads baseline() from the entity's previous hour and picks per minute with max(a, b) and min(a, b)", () => {
    const expression = parseRuleExpression("p95 > max(3 * baseline(p95), 250)");
    assert.equal(expression.usesBaseline, true);
    assert.equal(parseRuleExpression("p95 > 250").usesBaseline, false);
    const read: MinuteMetricReader = (index, metric) => (metric === "p95" ? [20, 900][index] : undefined);
    const rightSide = (baseline: number | undefined): number => evaluateValue(expression.right, read, 0, 2, (metric) => (metric === "p95" ? baseline : undefined));
    assert.equal(rightSide(10), 250, "the floor when three times the baseline is below it");
    assert.equal(rightSide(400), 1_200, "three times an always-slow baseline");
    assert.ok(Number.isNaN(rightSide(undefined)), "no baseline (a new service) never breaches, the floor alone does not fire");
    assert.equal(evaluateValue(parseRuleExpression("min(p95, 100) > 0").left, read, 1, 2), 100);
    assert.equal(evaluateValue(parseRuleExpression("max(p95) > 0").left, read, 0, 2), 900, "one argument still aggregates the period");
    assert.throws(() => parseRuleExpression("p95 > baseline(p95 * 2)"), /expected "\)" at "\*"/);
    assert.throws(() => parseRuleExpression("p95 > baseline(probe_success_rate)"), /baseline\(\) takes one call metric/);
  });

  it("rejects what is not an expression, naming the column", () => {
    const cases: Array<[string, RegExp, number]> = [
      ["sla", /expected a comparison/, 3],
      ["sla < ", /expected a number, metric or "\(" at the end/, 6],
      ["slaa < 95", /unknown metric or function "slaa"/, 0],
      ["sla < 95 95", /unexpected "95" after the comparison/, 9],
      ["avg(sla < 95", /expected "\)" at "<"/, 8],
      ["sla ; 1", /unexpected character ";"/, 4],
      ["process.exit(1) < 1", /unexpected character "\."/, 7],
      ["exit(1) < 1", /unknown metric or function "exit"/, 0],
    ];
    for (const [source, message, column] of cases) {
      assert.throws(() => parseRuleExpression(source), (error: unknown) => error instanceof ExpressionError && message.test(error.message) && error.column === column, source);
    }
    assert.throws(() => parseRuleExpression(`${"(".repeat(40)}1${")".repeat(40)} > 0`), /nested deeper/);
  });
});
