import type { EntityWindow } from "../health/analysis-window.ts";
import { ruleEntityName, type AlarmRule } from "../rules/rule.ts";

/** The variables a rule message may use; docs/alerting.md lists them. `{id}` is SkyWalking's entity id. */
export const MESSAGE_VARIABLES = ["name", "id", "rule", "scope", "service", "value", "threshold", "expression", "period", "count", "breaching"] as const;

/** Fills `{variable}` placeholders; unknown ones stay as written so a typo shows in the message. */
export function renderMessage(rule: AlarmRule, entity: Pick<EntityWindow, "entity" | "scope" | "service" | "labels">, figures: { value: number; threshold: number; breachingMinutes: number }): string {
  const values: Record<(typeof MESSAGE_VARIABLES)[number], string> = {
    name: ruleEntityName(rule, entity),
    id: skyWalkingEntityId(entity),
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

/**
 * SkyWalking's id of the entity (IDManager): a service is base64(name) + ".1", an instance or endpoint is its
 * service's id + "_" + base64(name), a relation is the two services' ids joined by "-". A probe is taken for the
 * service it checks, or its own name.
 */
export function skyWalkingEntityId(entity: Pick<EntityWindow, "entity" | "scope" | "service" | "labels">): string {
  const serviceId = (name: string): string => `${Buffer.from(name).toString("base64")}.1`;
  const part = (name: string): string => Buffer.from(name).toString("base64");
  switch (entity.scope) {
    case "instance":
      return `${serviceId(entity.service)}_${part(entity.labels.instance ?? entity.entity)}`;
    case "endpoint":
      return `${serviceId(entity.service)}_${part(entity.labels.endpoint ?? entity.entity)}`;
    case "relation":
      return `${serviceId(entity.labels.source ?? entity.service)}-${serviceId(entity.labels.destination ?? "")}`;
    default:
      return serviceId(entity.service === "" ? entity.entity : entity.service);
  }
}
