import { z } from "zod";
import { compileUserRegex } from "./regex-text.ts";
import { MqeSyntaxError, MqeUnsupportedError, parseMqe, type MqeExpression } from "./mqe/mqe-expression.ts";
import { skyWalkingMetric } from "./mqe/skywalking-metrics.ts";
import type { AlarmRule, InactiveRule } from "./rule.ts";

/**
 * Reads the rules of a SkyWalking 9.6+ alarm-settings.yml as it is (docs/en/setup/backend/backend-alarm.md,
 * server-alarm-plugin RulesReader.java): `rules:` maps rule names to `expression` (MQE), `include-names`,
 * `exclude-names` and their `-regex` forms (whole-name matches; empty means unset), `period` (default 1),
 * `silence-period` (default = period), `recovery-observation-period` (default 0), `message` (default "Alarm caused
 * by Rule <name>"), `tags` and `hooks`; `hooks:` beside `rules:` declares the hooks, whose `is-default` ones serve
 * rules that name none. A hook `<type>.<name>` is the meshsight output of that name.
 *
 * Where SkyWalking refuses a file (bad MQE, mixed scopes), so does this; a rule SkyWalking would run but meshsight
 * cannot (a metric it does not produce, baseline()) and a rule SkyWalking skips (a name not ending in `_rule`)
 * load inactive with the reason, and never block the file.
 */

export interface SkyWalkingRuleSet {
  rules: AlarmRule[];
  inactive: InactiveRule[];
}

/** Where a rule file error points: a field of one rule, or the file. */
export type SkyWalkingFileError = (path: readonly PropertyKey[], message: string) => Error;

const MAX_PERIOD_MINUTES = 60;
const MAX_RULES = 500;

const names = z.array(z.union([z.string(), z.number()]).transform(String)).max(10_000).nullish();
const optionalRegex = z.string().max(500).nullish();
const minutes = z.number().int().min(0).max(10_000);

const skyWalkingRuleSchema = z.strictObject({
  expression: z.string({ error: "expression can't be empty" }).min(1, "expression can't be empty"),
  "include-names": names,
  "exclude-names": names,
  "include-names-regex": optionalRegex,
  "exclude-names-regex": optionalRegex,
  period: minutes.min(1).nullish(),
  "silence-period": minutes.nullish(),
  "recovery-observation-period": minutes.nullish(),
  message: z.string().max(2_000).nullish(),
  tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).nullish(),
  hooks: z.array(z.string().min(1)).max(100).nullish(),
});

const hookSettingsSchema = z.record(z.string(), z.record(z.string(), z.looseObject({ "is-default": z.boolean().nullish() }).nullish()).nullish()).nullish();

/** True when `rules:` is a map keyed by rule name: a SkyWalking file, not meshsight's list. */
export function isSkyWalkingRules(raw: unknown): boolean {
  const rules = typeof raw === "object" && raw !== null ? (raw as { rules?: unknown }).rules : undefined;
  return typeof rules === "object" && rules !== null && !Array.isArray(rules);
}

export function readSkyWalkingRules(rawRules: Record<string, unknown>, rawHooks: unknown, fail: SkyWalkingFileError): SkyWalkingRuleSet {
  const hooks = hookSettingsSchema.safeParse(rawHooks);
  if (!hooks.success) throw fail(["hooks", ...(hooks.error.issues[0]?.path ?? [])], `hooks: ${hooks.error.issues[0]?.message ?? "invalid"}`);
  const defaultHooks = Object.entries(hooks.data ?? {}).flatMap(([type, byName]) => Object.entries(byName ?? {}).filter(([, settings]) => settings?.["is-default"] === true).map(([name]) => `${type}.${name}`));
  const entries = Object.entries(rawRules);
  if (entries.length > MAX_RULES) throw fail(["rules"], `at most ${MAX_RULES} rules`);
  const result: SkyWalkingRuleSet = { rules: [], inactive: [] };
  for (const [name, raw] of entries) {
    const parsed = skyWalkingRuleSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue;
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
      const path = ["rules", name, ...issue.path, ...keys.slice(0, 1)];
      throw fail(path, `${path.map(String).join(".")}: ${issue.message}`);
    }
    const settings = parsed.data;
    const where = (field: string): readonly PropertyKey[] => ["rules", name, field];
    let expression: MqeExpression;
    try {
      expression = parseMqe(settings.expression);
    } catch (error) {
      if (error instanceof MqeUnsupportedError) {
        result.inactive.push({ name, expression: settings.expression, reason: error.message });
        continue;
      }
      if (!(error instanceof MqeSyntaxError)) throw error;
      throw fail(where("expression"), `rules.${name}.expression: ${error.message} (column ${error.column + 1} of ${JSON.stringify(settings.expression)})`);
    }
    const regexOf = (field: "include-names-regex" | "exclude-names-regex"): RegExp | undefined => {
      const source = settings[field];
      if (source === undefined || source === null || source === "") return undefined;
      try {
        // Java's Matcher.matches(): the whole name must match.
        return compileUserRegex(source, { isAnchored: true });
      } catch {
        throw fail(where(field), `rules.${name}.${field}: not a valid regular expression`);
      }
    };
    const inactiveReason = whyInactive(name, expression, settings.period ?? 1);
    const includeNamesRegex = regexOf("include-names-regex");
    const excludeNamesRegex = regexOf("exclude-names-regex");
    if (inactiveReason !== undefined) {
      result.inactive.push({ name, expression: settings.expression, reason: inactiveReason });
      continue;
    }
    const period = settings.period ?? 1;
    const scope = skyWalkingScopeOf(expression, fail, where("expression"));
    const specificHooks = settings.hooks ?? [];
    result.rules.push({
      name,
      expression,
      scope,
      includeNames: settings["include-names"] ?? [],
      includeNamesRegex,
      excludeNames: settings["exclude-names"] ?? [],
      excludeNamesRegex,
      periodMinutes: period,
      count: 1,
      // SkyWalking re-alarms once the silence countdown ran out; with 0 that is every minute.
      silencePeriodMinutes: Math.max(1, settings["silence-period"] ?? period),
      recoveryObservationMinutes: settings["recovery-observation-period"] ?? 0,
      message: settings.message ?? `Alarm caused by Rule ${name}`,
      labels: settings.tags ?? {},
      outputs: specificHooks.length > 0 ? specificHooks : defaultHooks,
      naming: "skywalking",
    });
  }
  return result;
}

/** Why SkyWalking's rule cannot run in meshsight (or is skipped by SkyWalking itself); undefined when it runs. */
function whyInactive(name: string, expression: MqeExpression, period: number): string | undefined {
  if (!name.endsWith("_rule")) return "SkyWalking skips rules whose name does not end in _rule";
  if (period > MAX_PERIOD_MINUTES) return `period ${period} is longer than the ${MAX_PERIOD_MINUTES} minutes meshsight's analysis reads`;
  for (const metric of expression.metrics) {
    const found = skyWalkingMetric(metric.name);
    if ("reason" in found) return found.reason;
  }
  return undefined;
}

/** SkyWalking's rule: every metric of an expression has one scope. */
function skyWalkingScopeOf(expression: MqeExpression, fail: SkyWalkingFileError, path: readonly PropertyKey[]): AlarmRule["scope"] {
  const scopes = new Set(expression.metrics.map((metric) => {
    const found = skyWalkingMetric(metric.name);
    return "metric" in found ? found.metric.scope : "service";
  }));
  if (scopes.size > 1) throw fail(path, `${path.map(String).join(".")}: all metrics of an expression must have one scope, got ${[...scopes].join(", ")}`);
  return [...scopes][0] ?? "service";
}
