import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { healthSettingsSchema, type HealthSettings } from "../health/thresholds.ts";
import { ExpressionError, parseRuleExpression } from "./expression.ts";
import { compileUserRegex, regexTextField } from "./regex-text.ts";
import { RULE_SCOPES, type AlarmRule, type InactiveRule } from "./rule.ts";
import { isSkyWalkingRules, readSkyWalkingRules } from "./skywalking-rules.ts";

/**
 * Reads an alarm rules file (docs/alerting.md "Alarm rules"): meshsight's `rules:` list, or a SkyWalking
 * alarm-settings.yml as it is (`rules:` keyed by rule name, see skywalking-rules.ts), and `health:` thresholds.
 * Every error names the file, the LINE and the reason, and the whole file is rejected, so a half-valid file never
 * replaces rules that work.
 */

export interface AlarmRuleSet {
  rules: readonly AlarmRule[];
  /** Rules that loaded but cannot run here, with the reason (SkyWalking rules over metrics meshsight lacks, ...). */
  inactive: readonly InactiveRule[];
  health: HealthSettings;
}

export class RuleFileError extends Error {
  override readonly name = "RuleFileError";
}

export const MAX_RULES = 500;
const MAX_PERIOD_MINUTES = 60;
const RULE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

const regexText = regexTextField(500);
const minutes = (min: number) => z.number().int().min(min).max(MAX_PERIOD_MINUTES);

const ruleSchema = z
  .strictObject({
    name: z.string().regex(RULE_NAME, "expected 1-100 letters, digits, or _ . : -"),
    expression: z.string().min(1),
    scope: z.enum(RULE_SCOPES as [string, ...string[]]).default("service"),
    "include-names": z.array(z.string()).max(10_000).default([]),
    "include-names-regex": regexText.optional(),
    "exclude-names": z.array(z.string()).max(10_000).default([]),
    "exclude-names-regex": regexText.optional(),
    period: minutes(1).default(5),
    count: minutes(1).default(1),
    "silence-period": minutes(0).default(0),
    "recovery-observation-period": minutes(0).default(0),
    message: z.string().max(2_000).optional(),
    labels: z.record(z.string().regex(LABEL_NAME, "label names are letters, digits and _"), z.string().max(1_000)).default({}),
    outputs: z.array(z.string().min(1)).max(100).default([]),
  })
  .refine((rule) => rule.count <= rule.period, { message: "count must not exceed period (breaching minutes within the period)", path: ["count"] });

const fileSchema = z.strictObject({
  rules: z.array(ruleSchema).max(MAX_RULES).default([]),
  health: healthSettingsSchema,
});

/** A SkyWalking file: its rules and hooks are read by skywalking-rules.ts; meshsight's `health:` may sit beside them. */
const skyWalkingFileSchema = z.strictObject({
  rules: z.record(z.string(), z.unknown()),
  hooks: z.unknown().optional(),
  health: healthSettingsSchema,
});

/** An empty pattern means "not set" (SkyWalking's rule), never "matches everything". */
function ruleRegex(source: string | undefined, options: { isAnchored: boolean }): RegExp | undefined {
  return source === undefined || source === "" ? undefined : compileUserRegex(source, options);
}

const DEFAULT_MESSAGE = "{rule}: {scope} {name}: {expression} (value {value}, threshold {threshold})";

/** Parses and validates rules text; `file` names it in errors (a path, or "PUT /api/v1/alarm-rules"). */
export function parseRuleFile(text: string, file: string): AlarmRuleSet {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line ?? 1;
    throw new RuleFileError(`${file}:${line}: not valid YAML: ${yamlError.message.split("\n")[0] ?? ""}`);
  }
  const lineOf = (path: readonly PropertyKey[]): number => lineOfPath(document, lineCounter, path);
  const raw: unknown = document.toJS() ?? {};
  const schemaError = (error: z.ZodError): RuleFileError => {
    const issue = error.issues[0] as z.core.$ZodIssue;
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const path = keys.length > 0 ? [...issue.path, keys[0] as string] : issue.path;
    const field = path.length > 0 ? `${path.map(String).join(".")}: ` : "";
    return new RuleFileError(`${file}:${lineOf(path)}: ${field}${issue.message}`);
  };
  if (isSkyWalkingRules(raw)) {
    const skyWalking = skyWalkingFileSchema.safeParse(raw);
    if (!skyWalking.success) throw schemaError(skyWalking.error);
    const fail = (path: readonly PropertyKey[], message: string): RuleFileError => new RuleFileError(`${file}:${lineOf(path)}: ${message}`);
    const { rules, inactive } = readSkyWalkingRules(skyWalking.data.rules, skyWalking.data.hooks, fail);
    return { rules, inactive, health: skyWalking.data.health };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw schemaError(parsed.error);
  const names = new Map<string, number>();
  const rules = parsed.data.rules.map((rule, index): AlarmRule => {
    const where = (key: string): string => `${file}:${lineOf(["rules", index, key])}`;
    const earlier = names.get(rule.name);
    if (earlier !== undefined) throw new RuleFileError(`${where("name")}: rule "${rule.name}" is already defined at line ${earlier}`);
    names.set(rule.name, lineOf(["rules", index, "name"]));
    let expression;
    try {
      expression = parseRuleExpression(rule.expression);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      throw new RuleFileError(`${where("expression")}: rules.${index}.expression: ${error.message} (column ${error.column + 1} of ${JSON.stringify(rule.expression)})`);
    }
    if (rule.scope === "probe") {
      const unsupported = [...expression.metrics].filter((metric) => !PROBE_METRICS.has(metric));
      if (unsupported.length > 0) throw new RuleFileError(`${where("expression")}: rules.${index}.expression: scope probe has no ${unsupported.join(", ")} (it has ${[...PROBE_METRICS].join(", ")})`);
    }
    return {
      name: rule.name,
      expression,
      scope: rule.scope as AlarmRule["scope"],
      includeNames: rule["include-names"],
      includeNamesRegex: ruleRegex(rule["include-names-regex"], { isAnchored: false }),
      excludeNames: rule["exclude-names"],
      excludeNamesRegex: ruleRegex(rule["exclude-names-regex"], { isAnchored: false }),
      periodMinutes: rule.period,
      count: rule.count,
      silencePeriodMinutes: rule["silence-period"],
      recoveryObservationMinutes: rule["recovery-observation-period"],
      message: rule.message ?? DEFAULT_MESSAGE,
      labels: rule.labels,
      outputs: rule.outputs,
      naming: "meshsight",
    };
  });
  return { rules, inactive: [], health: parsed.data.health };
}

/** What a probe minute has: runs as calls, failures as errors, their success rate and mean duration. */
export const PROBE_METRICS: ReadonlySet<string> = new Set(["probe_success_rate", "calls", "errors", "sla", "cpm", "latency_avg"]);

/** The line of the deepest node the path reaches (a missing field points at its parent). */
function lineOfPath(document: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number {
  for (let length = path.length; length >= 0; length--) {
    const prefix = path.slice(0, length);
    const node = (prefix.length === 0 ? document.contents : document.getIn(prefix as unknown[], true)) as Node | null | undefined;
    const keyNode = length > 0 ? keyNodeOf(document, prefix) : undefined;
    const start = keyNode?.range?.[0] ?? node?.range?.[0];
    if (start !== undefined) return lineCounter.linePos(start).line;
  }
  return 1;
}

/** The key node of the last path step when it names a map key: an unknown key's line is where it is written. */
function keyNodeOf(document: Document, path: readonly PropertyKey[]): Node | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1) as unknown[], true);
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}
