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

/** One flag as a command's --help prints it: a whole line (flag, variable, default), its description wrapped below. */
export interface HelpFlag {
  /** With its placeholder: "--rate <requests/s>". */
  flag: string;
  env?: string;
  defaultValue?: string;
  description: string;
}

export interface HelpGroup {
  /** Printed as "title:" above the flags; without one, the flags follow the text above. */
  title?: string;
  flags: HelpFlag[];
}

/** What each command's --help says, in the one layout they share. */
export interface CommandHelp {
  /** After "Usage: ", e.g. "meshsight start [flags]". */
  usage: string;
  /** Paragraphs before the flags. */
  about: string[];
  groups: HelpGroup[];
  /** Paragraphs after the flags (exit codes, where more is documented). */
  notes: string[];
}

/** A command's help: paragraphs and flag descriptions wrapped to `width` columns (the terminal's). */
export function formatCommandHelp(help: CommandHelp, width = DEFAULT_WIDTH): string {
  const lines = [`Usage: ${help.usage}`];
  for (const paragraph of help.about) lines.push("", ...wrap(paragraph, width, "", ""));
  for (const group of help.groups) {
    lines.push("");
    if (group.title !== undefined) lines.push(`${group.title}:`);
    for (const flag of group.flags) lines.push(...flagLines(flag, width));
  }
  for (const paragraph of help.notes) lines.push("", ...wrap(paragraph, width, "", ""));
  return `${lines.join("\n")}\n`;
}

/** The settings of the named sections as help groups, one per section, titled by its name. */
export function settingGroups(sections: ConfigSections, names: readonly string[] = Object.keys(sections)): HelpGroup[] {
  const settings = describeSettings(sections);
  return names.map((sectionName) => ({
    title: sectionName,
    flags: settings
      .filter((setting) => setting.path.startsWith(`${sectionName}.`))
      .map((setting) => ({ flag: `${setting.flag} <value>`, env: setting.env, defaultValue: setting.defaultValue, description: setting.description })),
  }));
}

/** The --config flag, which every command that loads the configuration reads. */
export const CONFIG_FILE_HELP: HelpFlag = {
  flag: `--${CONFIG_FILE_FLAG} <file>`,
  env: CONFIG_FILE_ENV,
  description: "YAML file with the keys below, nested by section (docs/configuration.md).",
};

/**
 * `meshsight start --help`: every setting as a flag with its environment variable and default, grouped by
 * config section, descriptions wrapped to `width` columns (the terminal's).
 */
export function formatStartHelp(sections: ConfigSections = coreSections, width = DEFAULT_WIDTH): string {
  return formatCommandHelp(
    {
      usage: "meshsight start [flags]",
      about: [
        "Runs every component of the selected roles in this process. Each flag can also be set by the environment variable shown, or in the YAML file under its section; flags win over the environment, the environment over the file.",
      ],
      groups: [{ flags: [CONFIG_FILE_HELP] }, ...settingGroups(sections)],
      notes: ["Exit codes: 0 clean shutdown, 1 start-up or runtime failure (e.g. ClickHouse or Redis unreachable, a port in use), 2 invalid config or command line."],
    },
    width,
  );
}

/** Help text is wrapped to this many columns when the output is not a terminal. */
const DEFAULT_WIDTH = 100;
/** Narrower than this, wrapping would leave a word or two a line: better to let the terminal fold. */
const MIN_WIDTH = 40;

function flagLines({ flag, env, defaultValue, description }: HelpFlag, width: number): string[] {
  const suffix = defaultValue === undefined ? undefined : `[default: ${defaultValue}]`;
  // The flag line stays whole, so the flag and its variable can be copied from it.
  return [`  ${[flag, env, suffix].filter((part) => part !== undefined).join("  ")}`, ...wrap(description, width, "      ", "      ")];
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
