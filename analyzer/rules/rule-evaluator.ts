import type { AnalysisWindow, EntityWindow } from "../health/analysis-window.ts";
import { BASELINE_MINUTES } from "../health/baseline-window.ts";
import { baselineMetric, metricOfMinute } from "../health/window-metrics.ts";
import { compare, evaluateValue, type BaselineReader, type MinuteMetricReader, type RuleExpression } from "./expression.ts";
import { evaluateMqe, type MqeWindow } from "./mqe/mqe-evaluator.ts";
import type { MqeExpression, MqeMetricNode } from "./mqe/mqe-expression.ts";
import { percentileLabelOf, skyWalkingMetric } from "./mqe/skywalking-metrics.ts";
import { isIdentifiedEntity, ruleAppliesTo, ruleEntityName, ruleLookbackMinutes, type AlarmRule } from "./rule.ts";

/** A rule that holds for an entity: in at least `count` minutes of its period, or its MQE expression is 1. */
export interface Breach {
  rule: AlarmRule;
  entity: EntityWindow;
  breachingMinutes: number;
  /** The expression's left side in the latest breaching minute (an MQE rule's over the period), and its right side then. */
  value: number;
  threshold: number;
  /** The left side minute by minute (an MQE rule's first metric; minutes with data only): the alert's metric evidence. */
  points: { t: number; v: number }[];
}

const MINUTE_MS = 60_000;

/**
 * Evaluates every rule against every entity of its scope over the rule's period, the way SkyWalking's alarm core
 * does. Returns only breaches: anything not returned is "clear" for the alert lifecycle (including entities
 * that had no data).
 */
export function findBreaches(rules: readonly AlarmRule[], window: AnalysisWindow): Breach[] {
  const breaches: Breach[] = [];
  for (const rule of rules) {
    for (const entity of window.entities[rule.scope]) {
      if (!isIdentifiedEntity(entity) || !ruleAppliesTo(rule, ruleEntityName(rule, entity))) continue;
      const { expression } = rule;
      const breach = expression.kind === "mqe" ? evaluateMqeEntity(rule, expression, entity, window) : evaluateEntity(rule, expression, entity, window);
      if (breach) breaches.push(breach);
    }
  }
  return breaches;
}

function evaluateEntity(rule: AlarmRule, expression: RuleExpression, entity: EntityWindow, window: AnalysisWindow): Breach | undefined {
  const period = Math.min(rule.periodMinutes, window.minuteCount);
  const offset = window.minuteCount - period;
  const read: MinuteMetricReader = (index, metric) => metricOfMinute(entity, offset + index, metric);
  const baseline: BaselineReader = (metric) => baselineMetric(entity, metric, BASELINE_MINUTES);
  let breachingMinutes = 0;
  let value = Number.NaN;
  let threshold = Number.NaN;
  const points: { t: number; v: number }[] = [];
  for (let index = 0; index < period; index++) {
    const left = evaluateValue(expression.left, read, index, period, baseline);
    const right = evaluateValue(expression.right, read, index, period, baseline);
    if (!Number.isNaN(left)) points.push({ t: window.fromMs + (offset + index) * MINUTE_MS, v: left });
    if (compare(left, expression.comparison, right)) {
      breachingMinutes++;
      value = left;
      threshold = right;
    }
  }
  if (breachingMinutes < rule.count) return undefined;
  return { rule, entity, breachingMinutes, value, threshold, points };
}

function evaluateMqeEntity(rule: AlarmRule, expression: MqeExpression, entity: EntityWindow, window: AnalysisWindow): Breach | undefined {
  const length = Math.min(ruleLookbackMinutes(rule), window.minuteCount);
  const offset = window.minuteCount - length;
  const periodStart = Math.max(0, length - rule.periodMinutes);
  const mqeWindow: MqeWindow = { length, periodStart, read: (metric) => readMetric(metric, entity, offset, length) };
  const outcome = evaluateMqe(expression, mqeWindow);
  if (!outcome.isFiring) return undefined;
  const points = outcome.points.flatMap((v, index) => (Number.isNaN(v) ? [] : [{ t: window.fromMs + (offset + periodStart + index) * MINUTE_MS, v }]));
  return { rule, entity, breachingMinutes: outcome.breachingMinutes, value: outcome.value, threshold: outcome.threshold, points };
}

/** A SkyWalking metric's series per label value over `length` minutes from `offset` (NaN where no calls). */
function readMetric(node: MqeMetricNode, entity: EntityWindow, offset: number, length: number): Map<string, number[]> {
  const found = skyWalkingMetric(node.name);
  // Rules over metrics meshsight lacks load inactive and are never evaluated.
  if (!("metric" in found)) return new Map();
  const { metric } = found;
  const selector = node.label;
  const labels = metric.labels === undefined ? [undefined] : selector === undefined ? metric.labels : selector.values.map((value) => percentileLabelOf({ name: selector.name, value }));
  const minutes = entity.minutes.slice(offset, offset + length);
  return new Map(labels.map((label) => [label ?? "", minutes.map((minute) => (minute === undefined || minute.calls === 0 ? Number.NaN : (metric.read(minute, label) ?? Number.NaN)))]));
}
