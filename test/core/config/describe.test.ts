import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { describeSettings, formatStartHelp } from "../../../core/config/describe.ts";

const docs = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");

void describe("config documentation", () => {
  void it("documents every key with its env name and flag in docs/configuration.md", () => {
    const missing = describeSettings()
      .flatMap((setting) => [setting.path, setting.env, setting.flag])
      .filter((name) => !docs.includes(`\`${name}\``));
    assert.deepEqual(missing, [], "add these to docs/configuration.md");
  });

  void it("gives every key a distinct env name and flag", () => {
    const settings = describeSettings();
    assert.equal(new Set(settings.map((setting) => setting.env)).size, settings.length);
    assert.equal(new Set(settings.map((setting) => setting.flag)).size, settings.length);
  });

  void it("prints every flag, env name and default in start --help, wrapped to the width asked", () => {
    const help = formatStartHelp(undefined, 60);
    assert.deepEqual(help.split("\n").filter((line) => line.length > 60 && !line.startsWith("  --")), []);
    for (const setting of describeSettings()) {
      assert.ok(help.includes(setting.flag) && help.includes(setting.env), `${setting.path} missing from help`);
    }
    assert.match(help, /^http:\n {2}--http-port <value> {2}MESHSIGHT_HTTP_PORT {2}\[default: 8080\]$/m);
    assert.match(help, /MESHSIGHT_CONFIG/);
  });
});
