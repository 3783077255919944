import type { RuleExpression } from "./expression.ts";

/** What a rule watches; "probe" is a probe case against one target. */
export type RuleScope = "service" | "instance" | "endpoint" | "relation" | "probe";

export const RULE_SCOPES: readonly RuleScope[] = ["service", "instance", "endpoint", "relation", "probe"];

/** One alarm rule as loaded (docs/alerting.md "Alarm rules"); field names follow SkyWalking's alarm settings. */
export interface AlarmRule {
  name: string;
  expression: RuleExpression;
  scope: RuleScope;
  includeNames: readonly string[];
  includeNamesRegex: RegExp | undefined;
  excludeNames: readonly string[];
  excludeNamesRegex: RegExp | undefined;
  /** Minutes of data the rule looks at. */
  periodMinutes: number;
  /** Breaching minutes within the period that make it fire. */
  count: number;
  /** Minimum minutes between two notifications of the same alert while it fires (0: every round). */
  silencePeriodMinutes: number;
  /** Minutes the condition must stay clear before a firing alert resolves (0: at the first clear round). */
  recoveryObservationMinutes: number;
  message: string;
  labels: Readonly<Record<string, string>>;
  /** Output names to notify; empty means all. */
  outputs: readonly string[];
}

/** Include/exclude names, lists and regexes; a name must pass both. */
export function ruleAppliesTo(rule: AlarmRule, entity: string): boolean {
  if (rule.includeNames.length > 0 && !rule.includeNames.includes(entity)) return false;
  if (rule.includeNamesRegex && !rule.includeNamesRegex.test(entity)) return false;
  if (rule.excludeNames.includes(entity)) return false;
  if (rule.excludeNamesRegex?.test(entity)) return false;
  return true;
}
