import { z } from "zod";
import { ConfigError, displayValue } from "./config-error.ts";
import { coreSections } from "./core-sections.ts";
import type { ConfigOf, ConfigSections } from "./section.ts";
import { collectRawConfig, getPath, type Environment, type RawConfig } from "./sources.ts";

/**
 * Builds the one typed config object: defaults < YAML file (--config / MESHSIGHT_CONFIG) < MESHSIGHT_*
 * environment < flags. Pure apart from reading the config file: cli.ts passes process.argv and
 * process.env, tests pass their own. Throws a ConfigError naming every bad key on one line. Keys the file
 * sets under a former name, and MESHSIGHT_* variables no setting reads, are reported to `onWarning`, which the
 * caller logs.
 */
export function loadConfig<Sections extends ConfigSections = typeof coreSections>(
  argv: readonly string[],
  env: Environment,
  sections: Sections = coreSections as unknown as Sections,
  onWarning: (message: string) => void = () => undefined,
): ConfigOf<Sections> {
  const raw = collectRawConfig(argv, env, sections);
  for (const message of raw.warnings) onWarning(message);
  const rootSchema = z.strictObject(Object.fromEntries(Object.entries(sections).map(([name, section]) => [name, section.schema.prefault({})])));
  const result = rootSchema.safeParse(raw.values);
  if (!result.success) throw new ConfigError(`invalid config: ${result.error.issues.map((issue) => describeIssue(issue, raw)).join("; ")}`);
  // The root schema is assembled from `sections` at run time, so its static type is lost; its output is
  // exactly ConfigOf<Sections> by construction.
  return deepFreeze(result.data) as ConfigOf<Sections>;
}

function originOf(path: readonly PropertyKey[], raw: RawConfig): string {
  // A value set for a parent (a YAML section that is not a mapping) is reported where the parent came from.
  for (let length = path.length; length > 0; length--) {
    const origin = raw.origins.get(path.slice(0, length).map(String).join("."));
    if (origin !== undefined) return `from ${origin}`;
  }
  return "default";
}

function describeIssue(issue: z.core.$ZodIssue, raw: RawConfig): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((key) => {
        const path = [...issue.path, key];
        const parent = issue.path.length > 0 ? issue.path.join(".") : "the top level";
        return `${path.join(".")} = ${displayValue(getPath(raw.values, path))} (${originOf(path, raw)}): unknown key in ${parent}`;
      })
      .join("; ");
  }
  const key = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${key} = ${displayValue(getPath(raw.values, issue.path))} (${originOf(issue.path, raw)}): ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
