import type { z } from "zod";

/**
 * A config section: a zod schema for its slice of the config plus, for every leaf key, where operators
 * can set it. Components add their own section (the collector adds `collector`) and hand it to
 * loadConfig next to the core ones; help text and docs are generated from the same bindings.
 */
export interface KeyBinding {
  /** Path inside the section, dot separated ("clickhouse.url"). */
  key: string;
  /** Environment variable name; every key has one so operators can run without a file. */
  env: string;
  /** Command-line flag without the leading dashes ("http-port"). */
  flag: string;
  description: string;
  /**
   * Where a config file used to hold this key (a dotted path from the top, "gates.auth.tokens"). A value
   * found there is read as this key's, with a deprecation warning, unless the file also sets the key itself.
   */
  formerly?: string;
}

export interface ConfigSection<Schema extends z.ZodObject = z.ZodObject> {
  schema: Schema;
  bindings: readonly KeyBinding[];
}

export type ConfigSections = Record<string, ConfigSection>;

/** The typed config object a set of sections produces. */
export type ConfigOf<Sections extends ConfigSections> = { [Name in keyof Sections]: z.output<Sections[Name]["schema"]> };

export function defineSection<Schema extends z.ZodObject>(schema: Schema, bindings: readonly KeyBinding[]): ConfigSection<Schema> {
  return { schema, bindings };
}

/**
 * A part's bindings as they read inside the section that nests it under `prefix` (the ALS receiver's `port`
 * becomes `als.port` in `receivers`), so each part declares its own keys once and the section composes them.
 */
export function nestedBindings(prefix: string, bindings: readonly KeyBinding[]): KeyBinding[] {
  return bindings.map((binding) => ({ ...binding, key: `${prefix}.${binding.key}` }));
}
