import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { sections } from "../../cli-sections.ts";
import { formatIngestHelp } from "../../collector/ingest-command.ts";
import { formatSimulateHelp } from "../../collector/simulator/simulate-command.ts";
import { describeSettings } from "../../core/config/describe.ts";
import { coreSections } from "../../core/config/core-sections.ts";
import packageJson from "../../package.json" with { type: "json" };
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

  void it("prints the commands for --help, and every flag of every section, grouped by section, for start --help", async () => {
    const run = runCli(["--help"]);
    assert.equal(await run.exited(), 0, run.stderr());
    const overview = run.stdoutLines().join("\n");
    for (const command of ["start", "ingest", "simulate", "help"]) assert.match(overview, new RegExp(`^  ${command} `, "m"));
    assert.doesNotMatch(overview, /--http-port/, "the overview lists commands, not every flag");

    const start = runCli(["start", "--help"]);
    assert.equal(await start.exited(), 0, start.stderr());
    const help = start.stdoutLines().join("\n");
    const missing = settings.filter((setting) => !help.includes(setting.flag) || !help.includes(setting.env)).map((setting) => setting.path);
    assert.deepEqual(missing, []);
    assert.match(help, /^collector:\n/m);
    assert.match(help, /^ {2}--access-log-identity <value> {2}MESHSIGHT_ACCESS_LOG_IDENTITY {2}\[default: static\]$/m);
    // Not a terminal: descriptions wrap at 100 columns; flag lines stay whole so they can be copied.
    const tooWide = start.stdoutLines().filter((line) => line.length > 100 && !line.startsWith("  --"));
    assert.deepEqual(tooWide, []);
  });

  void it("prints the version for --version", async () => {
    const run = runCli(["--version"]);
    assert.equal(await run.exited(), 0, run.stderr());
    assert.deepEqual(run.stdoutLines(), [`meshsight ${packageJson.version}`]);
  });

  void it("prints ingest's and simulate's own flags grouped by section and wrapped, as start --help does", async () => {
    const expected = [
      ["ingest", ["ingest:", "storage:", "collector:", "log:"]],
      ["simulate", ["traffic:", "caller identity:"]],
    ] as const;
    for (const [command, headings] of expected) {
      for (const flag of ["--help", "-h"]) {
        const run = runCli([command, flag]);
        assert.equal(await run.exited(), 0, run.stderr());
        const lines = run.stdoutLines();
        assert.match(lines[0] ?? "", new RegExp(`^Usage: meshsight ${command} `));
        assert.deepEqual(lines.filter((line) => /^[a-z][a-z ]*:$/.test(line)), headings, `${command} ${flag}`);
        assert.deepEqual(lines.filter((line) => line.length > 100 && !line.startsWith("  --")), [], "wrapped at 100 columns in a pipe");
      }
    }
    const ingest = runCli(["ingest", "--help"]);
    await ingest.exited();
    const help = ingest.stdoutLines().join("\n");
    assert.match(help, /^ {2}--role <sidecar\|router\|waypoint> {2}\[default: sidecar\]$/m);
    assert.match(help, /^ {2}--lateness-seconds <value> {2}MESHSIGHT_LATENESS_SECONDS {2}\[default: 120\]$/m);
    assert.doesNotMatch(help, /--http-port/, "only the settings ingest reads");
  });

  void it("wraps ingest's and simulate's help to a narrow terminal", () => {
    for (const help of [formatIngestHelp(sections, 60), formatSimulateHelp(60)]) {
      assert.deepEqual(help.split("\n").filter((line) => line.length > 60 && !line.startsWith("  --")), []);
    }
  });
});
