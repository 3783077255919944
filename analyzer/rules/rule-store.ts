import { watch, type FSWatcher } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { readTextIfExists, writeTextAtomically } from "../../core/files/text-file.ts";
import { DEFAULT_RULES_YAML } from "./default-rules.ts";
import { parseRuleFile, RuleFileError, type AlarmRuleSet } from "./rule-file.ts";
import type { AlarmRule } from "./rule.ts";

export interface LoadedRules extends AlarmRuleSet {
  byName: ReadonlyMap<string, AlarmRule>;
  /** The YAML in force, as written (the built-in rules while no file exists). */
  text: string;
  source: "defaults" | "file" | "api";
  loadedAtMs: number;
}

export interface RuleStoreOptions {
  file: string;
  logger: Logger;
  debounceMs: number;
  onReload: (result: "applied" | "rejected") => void;
  now?: () => number;
}

/** Who wrote rules: named in errors instead of a file path. */
export const API_RULES_ORIGIN = "PUT /api/v1/alarm-rules";

/**
 * Holds the alarm rules in force. They come from the rules file (watched, reloaded after a debounce)
 * or from the API (validated, then written to the same file so both agree and survive a restart).
 * A file that does not validate is rejected with file, line and reason; the previous rules stay.
 */
export class AlarmRuleStore {
  private loaded: LoadedRules;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: RuleStoreOptions) {
    this.now = options.now ?? Date.now;
    this.loaded = this.build(parseRuleFile(DEFAULT_RULES_YAML, "built-in rules"), DEFAULT_RULES_YAML, "defaults");
  }

  current(): LoadedRules {
    return this.loaded;
  }

  /** Loads the file (a bad one fails start: an operator should see it at once) and watches its directory. */
  async start(): Promise<void> {
    const text = await this.readFileText();
    if (text !== undefined) this.apply(parseRuleFile(text, this.options.file), text, "file");
    const directory = dirname(this.options.file);
    await mkdir(directory, { recursive: true });
    // The directory, not the file: editors and our own writes replace the file by rename, which ends a file watch.
    const name = basename(this.options.file);
    this.watcher = watch(directory, { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) this.scheduleReload();
    });
    this.watcher.on("error", (error) => this.options.logger.warn({ component: "alarm-rules", err: error }, "watching the rules file failed; reload through the API"));
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.debounce);
    await this.reloading;
  }

  /** Validates and applies rules sent through the API, then writes them to the rules file. Throws RuleFileError. */
  async replace(text: string): Promise<LoadedRules> {
    let set: AlarmRuleSet;
    try {
      set = parseRuleFile(text, API_RULES_ORIGIN);
    } catch (error) {
      this.options.onReload("rejected");
      throw error;
    }
    await writeTextAtomically(this.options.file, text);
    this.apply(set, text, "api");
    return this.loaded;
  }

  /** Re-reads the file now; resolves once done (tests and the debounce use it). Never throws. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadFromFile());
    return this.reloading;
  }

  private scheduleReload(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs);
    this.debounce.unref();
  }

  private async reloadFromFile(): Promise<void> {
    const { logger, file } = this.options;
    let text: string | undefined;
    try {
      text = await this.readFileText();
    } catch (error) {
      logger.warn({ component: "alarm-rules", file, err: error }, "cannot read the rules file; the previous rules stay in force");
      return;
    }
    // Deleting the file keeps the rules in force: a half-finished edit must not silence all alerting.
    if (text === undefined || text === this.loaded.text) return;
    try {
      this.apply(parseRuleFile(text, file), text, "file");
    } catch (error) {
      this.options.onReload("rejected");
      const reason = error instanceof RuleFileError ? error.message : String(error);
      logger.error({ component: "alarm-rules", file, reason }, "alarm rules rejected; the previous rules stay in force");
    }
  }

  /**
   * The file's text; undefined when it is missing or blank. A blank file is what a reader sees between
   * a writer's truncate and its write: taking it for "no rules" would silence all alerting for a moment.
   * An operator who wants no rules writes `rules: []`.
   */
  private async readFileText(): Promise<string | undefined> {
    const text = await readTextIfExists(this.options.file);
    return text === undefined || text.trim() === "" ? undefined : text;
  }

  private apply(set: AlarmRuleSet, text: string, source: LoadedRules["source"]): void {
    this.loaded = this.build(set, text, source);
    this.options.onReload("applied");
    this.options.logger.info({ component: "alarm-rules", source, rules: set.rules.length, inactive: set.inactive.length }, "alarm rules applied");
    // A rule over a metric meshsight does not produce loads, but never fires: say so where operators look.
    for (const rule of set.inactive) this.options.logger.warn({ component: "alarm-rules", source, rule: rule.name, reason: rule.reason }, "alarm rule inactive");
  }

  private build(set: AlarmRuleSet, text: string, source: LoadedRules["source"]): LoadedRules {
    return { ...set, byName: new Map(set.rules.map((rule) => [rule.name, rule])), text, source, loadedAtMs: this.now() };
  }
}
