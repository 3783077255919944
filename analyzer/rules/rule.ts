import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { RuleExpression } from "./expression.ts";
import type { MqeExpression } from "./mqe/mqe-expression.ts";

/** What a rule watches; "probe" is a probe case against one target. */
export type RuleScope = "service" | "instance" | "endpoint" | "relation" | "probe";

export const RULE_SCOPES: readonly RuleScope[] = ["service", "instance", "endpoint", "relation", "probe"];

/**
 * One alarm rule as loaded (docs/alerting.md "Alarm rules"), from meshsight's rule format (a comparison counted
 * minute by minute) or from a SkyWalking alarm-settings.yml (an MQE expression over the period).
 */
export interface AlarmRule {
  name: string;
  expression: RuleExpression | MqeExpression;
  scope: RuleScope;
  includeNames: readonly string[];
  includeNamesRegex: RegExp | undefined;
  excludeNames: readonly string[];
  excludeNamesRegex: RegExp | undefined;
  /** Minutes of data the rule looks at. */
  periodMinutes: number;
  /** Breaching minutes within the period that make it fire (meshsight's format; an MQE expression counts itself). */
  count: number;
  /** Minutes between two reminders to people while the alert fires (0: none). */
  silencePeriodMinutes: number;
  /** Minutes the condition must stay clear before a firing alert resolves (0: at the first clear round). */
  recoveryObservationMinutes: number;
  message: string;
  labels: Readonly<Record<string, string>>;
  /** Output names to notify; empty means all. */
  outputs: readonly string[];
  /** Entity names in name filters and messages: meshsight's, or SkyWalking's ("pod.ns of svc.ns" for an instance). */
  naming: "meshsight" | "skywalking";
}

/** A rule that loaded but cannot run here (a metric meshsight does not produce, ...): listed, never evaluated. */
export interface InactiveRule {
  name: string;
  expression: string;
  reason: string;
}

/** Minutes of data a round must read for the rule: its period, and what increase/rate look back before it. */
export function ruleLookbackMinutes(rule: AlarmRule): number {
  return rule.periodMinutes + (rule.expression.kind === "mqe" ? rule.expression.trendMinutes : 0);
}

/** The entity's name as the rule's format writes it: SkyWalking names an instance "<instance> of <service>". */
export function ruleEntityName(rule: AlarmRule, entity: { scope: RuleScope; entity: string; service: string }): string {
  return rule.naming === "skywalking" && entity.scope === "instance" ? `${entity.entity} of ${entity.service}` : entity.entity;
}

/**
 * False for an entity meshsight could not name: the service `UNKNOWN` (core/model/dimensions.ts), its
 * instances and endpoints, and a relation from or to it. An alert there has nobody to page and nothing
 * to act on (docs/alerting.md, "Alarm rules"); health still shows it.
 */
export function isIdentifiedEntity(entity: { service: string; labels: Record<string, string> }): boolean {
  const names = [entity.service, entity.labels.source, entity.labels.destination, entity.labels.instance];
  return !names.includes(UNKNOWN_SERVICE);
}

/** Include/exclude names, lists and regexes; a name must pass both. */
export function ruleAppliesTo(rule: AlarmRule, entity: string): boolean {
  if (rule.includeNames.length > 0 && !rule.includeNames.includes(entity)) return false;
  if (rule.includeNamesRegex && !rule.includeNamesRegex.test(entity)) return false;
  if (rule.excludeNames.includes(entity)) return false;
  if (rule.excludeNamesRegex?.test(entity)) return false;
  return true;
}
