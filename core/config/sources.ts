import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseYaml } from "./lazy-yaml.ts";
import { ConfigError } from "./config-error.ts";
import { closestName, didYouMean } from "./did-you-mean.ts";
import type { ConfigSections } from "./section.ts";

/**
 * Collects raw values from the three operator-facing sources (YAML file, environment, flags) into one
 * nested object, remembering for every key where its value came from so errors can point at it.
 */

export type Environment = Readonly<Record<string, string | undefined>>;
type PlainObject = Record<string, unknown>;

export interface RawConfig {
  values: PlainObject;
  /** Dotted key path -> "MESHSIGHT_HTTP_PORT", "--http-port" or the config file path. */
  origins: Map<string, string>;
  /**
   * What is read but deserves a warning, one sentence each: keys the file sets under a deprecated name
   * (KeyBinding.formerly), and MESHSIGHT_* variables no setting has (likely misspelled, so ignored).
   */
  warnings: string[];
}

export const CONFIG_FILE_ENV = "MESHSIGHT_CONFIG";
export const CONFIG_FILE_FLAG = "config";
const ENV_PREFIX = "MESHSIGHT_";

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function getPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[String(segment)];
  }
  return current;
}

function setPath(root: PlainObject, path: readonly string[], value: unknown): void {
  let current = root;
  for (const segment of path.slice(0, -1)) {
    const next = current[segment];
    if (isPlainObject(next)) {
      current = next;
    } else {
      const created: PlainObject = {};
      current[segment] = created;
      current = created;
    }
  }
  const last = path.at(-1);
  if (last !== undefined) current[last] = value;
}

/** Removes the key at `path` and every parent mapping it leaves empty. */
function deletePath(root: PlainObject, path: readonly string[]): void {
  const [first, ...rest] = path;
  if (first === undefined) return;
  const child = root[first];
  if (rest.length > 0 && isPlainObject(child)) {
    deletePath(child, rest);
    if (Object.keys(child).length > 0) return;
  }
  Reflect.deleteProperty(root, first);
}

/** Reads keys the file still sets under their former names (KeyBinding.formerly) as their current ones. */
function moveFormerKeys(values: PlainObject, sections: ConfigSections, file: string): string[] {
  const deprecations: string[] = [];
  for (const [sectionName, section] of Object.entries(sections)) {
    for (const binding of section.bindings) {
      if (binding.formerly === undefined) continue;
      const former = binding.formerly.split(".");
      const value = getPath(values, former);
      if (value === undefined) continue;
      deletePath(values, former);
      const current = [sectionName, ...binding.key.split(".")];
      if (getPath(values, current) === undefined) {
        setPath(values, current, value);
        deprecations.push(`${file}: ${binding.formerly} is deprecated, read as ${current.join(".")}; move it there`);
      } else {
        deprecations.push(`${file}: ${binding.formerly} is deprecated and ignored, as ${current.join(".")} is set too; remove it`);
      }
    }
  }
  return deprecations;
}

function recordLeafOrigins(value: unknown, prefix: string[], origin: string, origins: Map<string, string>): void {
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) recordLeafOrigins(child, [...prefix, key], origin, origins);
    return;
  }
  if (prefix.length > 0) origins.set(prefix.join("."), origin);
}

function readConfigFile(path: string, pointedBy: string): PlainObject {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`invalid config: cannot read config file "${path}" (from ${pointedBy}): ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`invalid config: config file "${path}" is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new ConfigError(`invalid config: config file "${path}" must hold a YAML mapping of sections (http:, storage:, ...)`);
  return parsed;
}

function parseFlags(argv: readonly string[], sections: ConfigSections): Record<string, string | undefined> {
  const options: Record<string, { type: "string" }> = { [CONFIG_FILE_FLAG]: { type: "string" } };
  for (const section of Object.values(sections)) for (const binding of section.bindings) options[binding.flag] = { type: "string" };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values;
  } catch (error) {
    throw new ConfigError(`invalid command line: ${describeFlagError(error as Error & { code?: string }, Object.keys(options))}`);
  }
}

/** node:util's parseArgs messages explain positionals at length; an operator needs the flag and its likely spelling. */
function describeFlagError(error: Error & { code?: string }, flags: readonly string[]): string {
  const unknown = /^Unknown option '(-[^']*)'/.exec(error.message)?.[1];
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
    const name = unknown.replace(/^--?/, "").split("=")[0] ?? "";
    return `unknown flag ${unknown}${didYouMean(`--${name}`, flags.map((flag) => `--${flag}`))} (see meshsight start --help)`;
  }
  if (error.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `${error.message.split(".")[0] ?? error.message}: flags take the form --name value (see meshsight start --help)`;
  return `${error.message} (see meshsight start --help)`;
}

/** MESHSIGHT_* variables no setting reads: a typo there would otherwise be silently ignored. */
function unknownEnvironmentWarnings(env: Environment, sections: ConfigSections): string[] {
  const known = new Set([CONFIG_FILE_ENV, ...Object.values(sections).flatMap((section) => section.bindings.map((binding) => binding.env))]);
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name))
    .sort()
    // Compared without the prefix they all share, so only a near spelling of the rest counts as close.
    .map((name) => {
      const closest = closestName(name.slice(ENV_PREFIX.length), [...known].map((knownName) => knownName.slice(ENV_PREFIX.length)));
      return `${name} is not a meshsight setting and is ignored${closest === undefined ? "" : ` (did you mean ${ENV_PREFIX}${closest}?)`}`;
    });
}

/** Layers file < env < flags; an empty env variable counts as unset, as shells make clearing hard. */
export function collectRawConfig(argv: readonly string[], env: Environment, sections: ConfigSections): RawConfig {
  const flags = parseFlags(argv, sections);
  const origins = new Map<string, string>();
  let values: PlainObject = {};
  const warnings = unknownEnvironmentWarnings(env, sections);

  const flagFile = flags[CONFIG_FILE_FLAG];
  const envFile = env[CONFIG_FILE_ENV];
  const configFile = flagFile ?? (envFile === "" ? undefined : envFile);
  if (configFile !== undefined) {
    values = readConfigFile(configFile, flagFile !== undefined ? `--${CONFIG_FILE_FLAG}` : CONFIG_FILE_ENV);
    warnings.push(...moveFormerKeys(values, sections, configFile));
    recordLeafOrigins(values, [], configFile, origins);
  }

  for (const [sectionName, section] of Object.entries(sections)) {
    for (const binding of section.bindings) {
      const path = [sectionName, ...binding.key.split(".")];
      const envValue = env[binding.env];
      if (envValue !== undefined && envValue !== "") {
        setPath(values, path, envValue);
        origins.set(path.join("."), binding.env);
      }
    }
  }
  for (const [sectionName, section] of Object.entries(sections)) {
    for (const binding of section.bindings) {
      const flagValue = flags[binding.flag];
      if (flagValue !== undefined) {
        const path = [sectionName, ...binding.key.split(".")];
        setPath(values, path, flagValue);
        origins.set(path.join("."), `--${binding.flag}`);
      }
    }
  }
  return { values, origins, warnings };
}
