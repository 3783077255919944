import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { sections } from "../../cli-sections.ts";
import { describeSettings } from "../../core/config/describe.ts";
import { coreSections } from "../../core/config/core-sections.ts";
import { runCli } from "./cli-process.ts";

/** The sections cli.ts loads: the kernel's and each component's. core/ cannot import components, so they are checked here. */
const settings = describeSettings(sections);
const coreSectionNames = new Set(Object.keys(coreSections));
const docs = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

void describe("meshsight --help and docs/configuration.md", () => {
  void it("documents every component key with its env name and flag", () => {
    const componentSettings = settings.filter((setting) => !coreSectionNames.has(setting.path.split(".")[0] ?? ""));
    assert.ok(componentSettings.length >= 60, "the component sections are described");
    const missing = componentSettings.flatMap((setting) => [setting.path, setting.env, setting.flag]).filter((name) => !docs.includes(`\`${name}\``));
    assert.deepEqual(missing, [], "add these to docs/configuration.md");
  });

  void it("prints every command and every flag of every section, the collector's included", async () => {
    const run = runCli(["--help"]);
    assert.equal(await run.exited(), 0, run.stderr());
    const help = run.stdoutLines().join("\n");
    for (const command of ["start", "ingest", "simulate", "help"]) assert.match(help, new RegExp(`^  ${command} `, "m"));
    const missing = settings.filter((setting) => !help.includes(setting.flag) || !help.includes(setting.env)).map((setting) => setting.path);
    assert.deepEqual(missing, []);
    assert.match(help, /--access-log-identity <value>\s+MESHSIGHT_ACCESS_LOG_IDENTITY .*\[default: static\]/);
  });

  void it("prints the ingest usage for meshsight ingest --help", async () => {
    const run = runCli(["ingest", "--help"]);
    assert.equal(await run.exited(), 0, run.stderr());
    assert.match(run.stdoutLines()[0] ?? "", /^usage: meshsight ingest --format FORMAT/);
  });
});
