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

/**
 * The settings holding `port` whose key names a port, as an operator changes them:
 * "receivers.otlp.grpcPort (--otlp-grpc-port or MESHSIGHT_OTLP_GRPC_PORT)".
 */
export function portSettingsHolding(sections: ConfigSections, config: unknown, port: number): string[] {
  return describeSettings(sections)
    .filter((setting) => /port$/i.test(setting.path) && getPath(config, setting.path.split(".")) === port)
    .map((setting) => `${setting.path} (${setting.flag} or ${setting.env})`);
}

/** `meshsight --help`: what each command does; each command's own --help lists its flags. */
export function formatHelp(width = DEFAULT_WIDTH): string {
  const commands: [string, string][] = [
    ["start", "run every component (receivers, storage, queue, HTTP API and page) in this process"],
    ["ingest", "read access-log lines from files or stdin into storage, then print totals"],
    ["simulate", "play a bookinfo-like mesh into an ALS receiver"],
    ["help", "print this text (also --help, -h); --version prints the version"],
  ];
  const lines = [
    "meshsight - observability and probing for service meshes",
    "",
    "Usage: meshsight <command> [flags]",
    "",
    "Commands:",
    ...commands.flatMap(([name, text]) => wrap(text, width, `  ${name.padEnd(10)}`, " ".repeat(12))),
    "",
    ...wrap("Run meshsight <command> --help for the flags of a command.", width, "", ""),
    ...wrap("Docs: README.md, docs/configuration.md, docs/errors.md", width, "", ""),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * `meshsight start --help`: every setting as a flag with its environment variable and default, grouped by
 * config section, descriptions wrapped to `width` columns (the terminal's).
 */
export function formatStartHelp(sections: ConfigSections = coreSections, width = DEFAULT_WIDTH): string {
  const settings = describeSettings(sections);
  const lines = [
    "Usage: meshsight start [flags]",
    "",
    ...wrap(
      "Runs every component of the selected roles in this process. Each flag can also be set by the environment variable shown, or in the YAML file under its section; flags win over the environment, the environment over the file.",
      width,
      "",
      "",
    ),
    "",
    ...flagLines(`--${CONFIG_FILE_FLAG} <file>`, CONFIG_FILE_ENV, "", "YAML file with the keys below, nested by section (docs/configuration.md).", width),
  ];
  for (const sectionName of Object.keys(sections)) {
    lines.push("", `${sectionName}:`);
    for (const setting of settings.filter((candidate) => candidate.path.startsWith(`${sectionName}.`))) {
      lines.push(...flagLines(`${setting.flag} <value>`, setting.env, `[default: ${setting.defaultValue}]`, setting.description, width));
    }
  }
  lines.push("", ...wrap("Exit codes: 0 clean shutdown, 1 start-up or runtime failure (e.g. ClickHouse or Redis unreachable, a port in use), 2 invalid config or command line.", width, "", ""));
  return `${lines.join("\n")}\n`;
}

/** Help text is wrapped to this many columns when the output is not a terminal. */
const DEFAULT_WIDTH = 100;
/** Narrower than this, wrapping would leave a word or two a line: better to let the terminal fold. */
const MIN_WIDTH = 40;

function flagLines(flag: string, env: string, suffix: string, description: string, width: number): string[] {
  // The flag line stays whole, so the flag and its variable can be copied from it.
  return [`  ${[flag, env, suffix].filter((part) => part !== "").join("  ")}`, ...wrap(description, width, "      ", "      ")];
}

/** Splits `text` at spaces into lines of at most `width` columns (a longer word keeps its own line). */
export function wrap(text: string, width: number, firstIndent: string, indent: string): string[] {
  const usable = Math.max(MIN_WIDTH, width);
  const lines: string[] = [];
  let line = firstIndent;
  let isLineEmpty = true;
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    if (!isLineEmpty && line.length + 1 + word.length > usable) {
      lines.push(line);
      line = indent;
      isLineEmpty = true;
    }
    line += isLineEmpty ? word : ` ${word}`;
    isLineEmpty = false;
  }
  lines.push(line);
  return lines;
}
