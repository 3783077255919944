import { compare } from "../expression.ts";
import type { MqeExpression, MqeMetricNode, MqeNode } from "./mqe-expression.ts";

/**
 * Evaluates an MQE alarm expression over one entity's window, as SkyWalking's alarm core does each minute: a
 * metric is a series (one value per minute, NaN where the minute had no data), aggregations fold the last
 * `period` minutes into one value, comparisons and && / || give 1 or 0. A labelled metric (percentiles) is one
 * series per label value, and the rule fires when the expression is 1 for any of them. Missing data never
 * breaches: anything computed from a missing minute is missing, and an aggregation of nothing is missing.
 */

/** Per label value ("" for an unlabelled metric). */
type Labeled<T> = Map<string, T>;

type MqeValue = { type: "scalar"; value: number } | { type: "series"; byLabel: Labeled<number[]> } | { type: "single"; byLabel: Labeled<number> };

export interface MqeWindow {
  /** Minutes read, oldest first: increase/rate's look-back, then the period. */
  length: number;
  /** Where the period starts among those minutes. */
  periodStart: number;
  /** The metric's series over all `length` minutes, per label value. */
  read(metric: MqeMetricNode): Labeled<number[]>;
}

export interface MqeOutcome {
  isFiring: boolean;
  /** The label value that fired ("" when unlabelled). */
  label: string;
  /** The root comparison's two sides for that label (1 and 1 for an && / || root). */
  value: number;
  threshold: number;
  /** Minutes of the period in which the aggregated condition held (or had data, when it is no condition). */
  breachingMinutes: number;
  /** The first metric's values over the period for that label (NaN where no data): the alert's evidence. */
  points: number[];
}

export function evaluateMqe(expression: MqeExpression, window: MqeWindow): MqeOutcome {
  const { root } = expression;
  const result = asLabeledSingle(evaluate(root, window));
  const firing = [...result.entries()].filter(([, value]) => value === 1).map(([label]) => label).sort();
  const label = firing[0] ?? "";
  const sides = root.kind === "compare" ? [singleFor(evaluate(root.left, window), label), singleFor(evaluate(root.right, window), label)] : [1, 1];
  const condition = aggregatedCondition(root);
  const conditionSeries = condition ? seriesFor(evaluate(condition, window), label, window.length) : undefined;
  const firstMetric = expression.metrics[0];
  const metricSeries = firstMetric ? seriesFor({ type: "series", byLabel: window.read(firstMetric) }, label, window.length) : [];
  const period = (series: number[]): number[] => series.slice(window.periodStart);
  const breachingMinutes = conditionSeries
    ? period(conditionSeries).filter((value) => value !== 0 && !Number.isNaN(value)).length
    : period(metricSeries).filter((value) => !Number.isNaN(value)).length;
  return { isFiring: firing.length > 0, label, value: sides[0] ?? Number.NaN, threshold: sides[1] ?? Number.NaN, breachingMinutes, points: period(metricSeries) };
}

function evaluate(node: MqeNode, window: MqeWindow): MqeValue {
  switch (node.kind) {
    case "number":
      return { type: "scalar", value: node.value };
    case "metric":
      return { type: "series", byLabel: window.read(node) };
    case "trend":
      return { type: "series", byLabel: mapLabels(window.read(node.metric), (series) => trend(series, node.minutes, node.fn === "rate")) };
    case "aggregate": {
      const operand = evaluate(node.operand, window);
      if (operand.type !== "series") return { type: "scalar", value: Number.NaN };
      return { type: "single", byLabel: mapLabels(operand.byLabel, (series) => aggregate(series.slice(window.periodStart), node.aggregation)) };
    }
    case "math":
      return mapValue(evaluate(node.operand, window), (value) => math(node.fn, value, node.places));
    case "aggregate_labels":
      return aggregateLabels(evaluate(node.operand, window), node.aggregation);
    case "arithmetic":
      return combine(evaluate(node.left, window), evaluate(node.right, window), (left, right) => arithmetic(node.operator, left, right));
    case "compare":
      return combine(evaluate(node.left, window), evaluate(node.right, window), (left, right) => (Number.isNaN(left) || Number.isNaN(right) ? Number.NaN : compare(left, node.operator, right) ? 1 : 0));
    case "logic":
      return combine(evaluate(node.left, window), evaluate(node.right, window), (left, right) => {
        if (Number.isNaN(left) || Number.isNaN(right)) return Number.NaN;
        const holds = node.operator === "&&" ? left !== 0 && right !== 0 : left !== 0 || right !== 0;
        return holds ? 1 : 0;
      });
  }
}

/** The condition an aggregation counts minutes of, e.g. `service_sla < 8000` in `sum(service_sla < 8000) >= 2`. */
function aggregatedCondition(node: MqeNode): MqeNode | undefined {
  if (node.kind === "aggregate") return node.operand.kind === "compare" || node.operand.kind === "logic" ? node.operand : undefined;
  if (node.kind === "number" || node.kind === "metric" || node.kind === "trend") return undefined;
  if (node.kind === "math" || node.kind === "aggregate_labels") return aggregatedCondition(node.operand);
  return aggregatedCondition(node.left) ?? aggregatedCondition(node.right);
}

function arithmetic(operator: "+" | "-" | "*" | "/" | "%", left: number, right: number): number {
  switch (operator) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    // x / 0 is "no answer", not Infinity: a rule must not fire because a denominator had no calls.
    case "/":
      return right === 0 ? Number.NaN : left / right;
    case "%":
      return right === 0 ? Number.NaN : left % right;
  }
}

function math(fn: "abs" | "ceil" | "floor" | "round", value: number, places: number): number {
  if (fn === "abs") return Math.abs(value);
  if (fn === "ceil") return Math.ceil(value);
  if (fn === "floor") return Math.floor(value);
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
}

/** increase: V(t) - V(t - n); rate: that per second. Missing when either end is missing (MQE's rule). */
function trend(series: readonly number[], minutes: number, isRate: boolean): number[] {
  return series.map((value, index) => {
    const before = index - minutes >= 0 ? (series[index - minutes] ?? Number.NaN) : Number.NaN;
    const increase = value - before;
    return isRate ? increase / (minutes * 60) : increase;
  });
}

function aggregate(values: readonly number[], aggregation: "sum" | "avg" | "max" | "min" | "count" | "latest"): number {
  const present = values.filter((value) => !Number.isNaN(value));
  if (present.length === 0) return Number.NaN;
  switch (aggregation) {
    case "sum":
      return present.reduce((total, value) => total + value, 0);
    case "avg":
      return present.reduce((total, value) => total + value, 0) / present.length;
    case "max":
      return Math.max(...present);
    case "min":
      return Math.min(...present);
    case "count":
      return present.length;
    case "latest":
      return present[present.length - 1] ?? Number.NaN;
  }
}

function aggregateLabels(value: MqeValue, aggregation: "sum" | "avg" | "max" | "min"): MqeValue {
  if (value.type === "scalar") return value;
  if (value.type === "single") return { type: "single", byLabel: new Map([["", aggregate([...value.byLabel.values()], aggregation)]]) };
  const all = [...value.byLabel.values()];
  const length = Math.max(0, ...all.map((series) => series.length));
  const folded = Array.from({ length }, (_, index) => aggregate(all.map((series) => series[index] ?? Number.NaN), aggregation));
  return { type: "series", byLabel: new Map([["", folded]]) };
}

function mapLabels<T, U>(byLabel: Labeled<T>, fn: (value: T) => U): Labeled<U> {
  return new Map([...byLabel].map(([label, value]) => [label, fn(value)]));
}

function mapValue(value: MqeValue, fn: (value: number) => number): MqeValue {
  if (value.type === "scalar") return { type: "scalar", value: fn(value.value) };
  if (value.type === "single") return { type: "single", byLabel: mapLabels(value.byLabel, fn) };
  return { type: "series", byLabel: mapLabels(value.byLabel, (series) => series.map(fn)) };
}

/** Label pairs of two sides: an unlabelled side applies to every label of the other; else labels must agree. */
function pairLabels<A, B>(left: Labeled<A>, right: Labeled<B>): [string, A, B][] {
  const leftKeys = [...left.keys()];
  const rightKeys = [...right.keys()];
  if (leftKeys.length === 1 && leftKeys[0] === "") return rightKeys.map((key) => [key, left.get("") as A, right.get(key) as B]);
  if (rightKeys.length === 1 && rightKeys[0] === "") return leftKeys.map((key) => [key, left.get(key) as A, right.get("") as B]);
  return leftKeys.filter((key) => right.has(key)).map((key) => [key, left.get(key) as A, right.get(key) as B]);
}

function combine(left: MqeValue, right: MqeValue, fn: (left: number, right: number) => number): MqeValue {
  if (left.type === "scalar" && right.type === "scalar") return { type: "scalar", value: fn(left.value, right.value) };
  if (left.type === "scalar") return mapValue(right, (value) => fn(left.value, value));
  if (right.type === "scalar") return mapValue(left, (value) => fn(value, right.value));
  if (left.type === "series" && right.type === "series") {
    const pairs = pairLabels(left.byLabel, right.byLabel);
    return { type: "series", byLabel: new Map(pairs.map(([key, a, b]) => [key, a.map((value, index) => fn(value, b[index] ?? Number.NaN))])) };
  }
  if (left.type === "single" && right.type === "single") {
    return { type: "single", byLabel: new Map(pairLabels(left.byLabel, right.byLabel).map(([key, a, b]) => [key, fn(a, b)])) };
  }
  // A series against a period value: parseMqe refuses these, so this never runs on a loaded rule.
  return { type: "scalar", value: Number.NaN };
}

function asLabeledSingle(value: MqeValue): Labeled<number> {
  if (value.type === "single") return value.byLabel;
  return new Map([["", value.type === "scalar" ? value.value : Number.NaN]]);
}

function singleFor(value: MqeValue, label: string): number {
  if (value.type === "scalar") return value.value;
  if (value.type === "series") return Number.NaN;
  return value.byLabel.get(label) ?? value.byLabel.get("") ?? Number.NaN;
}

function seriesFor(value: MqeValue, label: string, length: number): number[] {
  if (value.type === "series") return value.byLabel.get(label) ?? value.byLabel.get("") ?? new Array<number>(length).fill(Number.NaN);
  return new Array<number>(length).fill(value.type === "scalar" ? value.value : Number.NaN);
}
