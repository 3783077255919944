import type { AnalysisWindow, EntityWindow } from "../health/analysis-window.ts";
import { metricOfMinute } from "../health/window-metrics.ts";
import { compare, evaluateValue, type MinuteMetricReader } from "./expression.ts";
import { ruleAppliesTo, type AlarmRule } from "./rule.ts";

/** A rule that holds for an entity in at least `count` minutes of its period. */
export interface Breach {
  rule: AlarmRule;
  entity: EntityWindow;
  breachingMinutes: number;
  /** The expression's left side in the latest breaching minute, and its right side then. */
  value: number;
  threshold: number;
  /** The left side minute by minute (minutes with data only): the alert's metric evidence. */
  points: { t: number; v: number }[];
}

const MINUTE_MS = 60_000;

/**
 * Evaluates every rule against every entity of its scope, minute by minute over the rule's period, the
 * way SkyWalking's alarm core counts breaching minutes. Returns only breaches: anything not returned is
 * "clear" for the alert lifecycle (including entities that had no data).
 */
export function findBreaches(rules: readonly AlarmRule[], window: AnalysisWindow): Breach[] {
  const breaches: Breach[] = [];
  for (const rule of rules) {
    const period = Math.min(rule.periodMinutes, window.minuteCount);
    const offset = window.minuteCount - period;
    for (const entity of window.entities[rule.scope]) {
      if (!ruleAppliesTo(rule, entity.entity)) continue;
      const breach = evaluateEntity(rule, entity, offset, period, window.fromMs);
      if (breach) breaches.push(breach);
    }
  }
  return breaches;
}

function evaluateEntity(rule: AlarmRule, entity: EntityWindow, offset: number, period: number, fromMs: number): Breach | undefined {
  const read: MinuteMetricReader = (index, metric) => metricOfMinute(entity, offset + index, metric);
  const { expression } = rule;
  let breachingMinutes = 0;
  let value = Number.NaN;
  let threshold = Number.NaN;
  const points: { t: number; v: number }[] = [];
  for (let index = 0; index < period; index++) {
    const left = evaluateValue(expression.left, read, index, period);
    const right = evaluateValue(expression.right, read, index, period);
    if (!Number.isNaN(left)) points.push({ t: fromMs + (offset + index) * MINUTE_MS, v: left });
    if (compare(left, expression.comparison, right)) {
      breachingMinutes++;
      value = left;
      threshold = right;
    }
  }
  if (breachingMinutes < rule.count) return undefined;
  return { rule, entity, breachingMinutes, value, threshold, points };
}
