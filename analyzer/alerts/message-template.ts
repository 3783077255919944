import type { EntityWindow } from "../health/analysis-window.ts";
import type { AlarmRule } from "../rules/rule.ts";

/** The variables a rule message may use; docs/alerting.md lists them. */
export const MESSAGE_VARIABLES = ["name", "rule", "scope", "service", "value", "threshold", "expression", "period", "count", "breaching"] as const;

/** Fills `{variable}` placeholders; unknown ones stay as written so a typo shows in the message. */
export function renderMessage(rule: AlarmRule, entity: Pick<EntityWindow, "entity" | "scope" | "service">, figures: { value: number; threshold: number; breachingMinutes: number }): string {
  const values: Record<(typeof MESSAGE_VARIABLES)[number], string> = {
    name: entity.entity,
    rule: rule.name,
    scope: entity.scope,
    service: entity.service,
    value: formatNumber(figures.value),
    threshold: formatNumber(figures.threshold),
    expression: rule.expression.source,
    period: String(rule.periodMinutes),
    count: String(rule.count),
    breaching: String(figures.breachingMinutes),
  };
  return rule.message.replace(/\{(\w+)\}/g, (placeholder, name: string) => (Object.hasOwn(values, name) ? values[name as keyof typeof values] : placeholder));
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 100) / 100) : "n/a";
}
