import { createRequire } from "node:module";
import type * as Yaml from "yaml";

let yaml: typeof Yaml | undefined;

/**
 * `yaml`'s `parse`, with the package (CommonJS, ~50 ms of start-up to load) required on the first call: a
 * command given no YAML file (`meshsight ingest` with flags only) never loads it. docs/architecture.md,
 * "Import rules".
 */
export function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)("yaml") as typeof Yaml;
  return yaml.parse(text);
}
