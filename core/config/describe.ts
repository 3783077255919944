import { coreSections } from "./core-sections.ts";
import type { ConfigSections } from "./section.ts";
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, getPath } from "./sources.ts";

/** One documented setting: what --help prints and what docs/configuration.md must list. */
export interface SettingDescription {
  /** Dotted path in the config object and the YAML file ("storage.clickhouse.url"). */
  path: string;
  env: string;
  flag: string;
  defaultValue: string;
  description: string;
}

export function describeSettings(sections: ConfigSections = coreSections): SettingDescription[] {
  return Object.entries(sections).flatMap(([sectionName, section]) => {
    const defaults: unknown = section.schema.parse({});
    return section.bindings.map((binding) => {
      const defaultValue = getPath(defaults, binding.key.split("."));
      return {
        path: `${sectionName}.${binding.key}`,
        env: binding.env,
        flag: `--${binding.flag}`,
        defaultValue: defaultValue === undefined ? "(unset)" : JSON.stringify(defaultValue).replace(/^"(.*)"$/, "$1"),
        description: binding.description,
      };
    });
  });
}

/** `meshsight --help`: commands, then every flag with its environment name and default. */
export function formatHelp(sections: ConfigSections = coreSections): string {
  const settings = describeSettings(sections);
  const flagWidth = Math.max(...settings.map((setting) => setting.flag.length + " <value>".length));
  const lines = [
    "meshsight - observability and probing for service meshes",
    "",
    "Usage: meshsight <command> [flags]",
    "",
    "Commands:",
    "  start    run every component (receivers, storage, queue, HTTP API) in this process",
    "  ingest   read access-log lines from stdin into storage, then print totals (meshsight ingest --help)",
    "  simulate play a bookinfo-like mesh into an ALS receiver (meshsight simulate --help)",
    "  help     print this text (also --help, -h)",
    "",
    "Flags (each also settable by the environment variable shown; flags win over env, env over the file):",
    `  --${CONFIG_FILE_FLAG} <file>`.padEnd(flagWidth + 4) + `  ${CONFIG_FILE_ENV}  YAML file with the same keys as below, nested by section`,
    ...settings.map(
      (setting) =>
        `  ${`${setting.flag} <value>`.padEnd(flagWidth + 2)}  ${setting.env}  ${setting.description} [default: ${setting.defaultValue}]`,
    ),
    "",
    "Exit codes: 0 clean shutdown, 1 startup or runtime failure (e.g. ClickHouse/Redis unreachable), 2 invalid config or command line.",
    "Docs: README.md, docs/configuration.md, docs/errors.md",
  ];
  return `${lines.join("\n")}\n`;
}
