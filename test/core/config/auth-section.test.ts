import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sections } from "../../../cli-sections.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { authSection } from "../../../core/config/sections/auth.ts";
import { sha256Hex } from "../../../core/http/auth.ts";

const dir = mkdtempSync(join(tmpdir(), "meshsight-auth-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const hash = sha256Hex("s3cret");

function load(yaml: string, env: Record<string, string> = {}): { config: ReturnType<typeof loadConfig<typeof sections>>; deprecations: string[] } {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const deprecations: string[] = [];
  return { config: loadConfig(["--config", file], env, sections, (message) => deprecations.push(message)), deprecations };
}

void describe("auth config section", () => {
  void it("reads tokens from env text as name:sha256:scope|scope and refuses a plain secret", () => {
    const config = authSection.schema.parse({ tokens: `ci:${hash}:gate:check|probes:write, root:${hash.toUpperCase()}:admin`, readApisOpen: "false" });
    assert.deepEqual(config.tokens, [
      { name: "ci", sha256: hash, scopes: ["gate:check", "probes:write"] },
      { name: "root", sha256: hash.toUpperCase(), scopes: ["admin"] },
    ]);
    assert.equal(config.readApisOpen, false);
    assert.equal(config.protectIngest, false);
    assert.equal(authSection.schema.safeParse({ tokens: "ci:s3cret:admin" }).success, false);
    assert.equal(authSection.schema.safeParse({ tokens: `ci:${hash}:root` }).success, false, "unknown scope");
  });

  void it("keeps the environment names and flags it had under gates.auth", () => {
    const { config } = load("", { MESHSIGHT_API_TOKENS: `ci:${hash}:gate:check`, MESHSIGHT_API_READ_OPEN: "false", MESHSIGHT_API_PROTECT_INGEST: "true" });
    assert.deepEqual(config.auth, { tokens: [{ name: "ci", sha256: hash, scopes: ["gate:check"] }], readApisOpen: false, protectIngest: true });
    const byFlag = loadConfig(["--api-tokens", `root:${hash}:admin`], {}, sections);
    assert.deepEqual(byFlag.auth.tokens, [{ name: "root", sha256: hash, scopes: ["admin"] }]);
  });

  void it("reads a config file's gates.auth as auth, with one deprecation warning per key", () => {
    const { config, deprecations } = load(`gates:\n  maxGates: 7\n  auth:\n    tokens:\n      - { name: ci, sha256: ${hash}, scopes: [gate:check] }\n    readApisOpen: false\n`);
    assert.deepEqual(config.auth, { tokens: [{ name: "ci", sha256: hash, scopes: ["gate:check"] }], readApisOpen: false, protectIngest: false });
    assert.equal(config.gates.maxGates, 7);
    assert.equal(deprecations.length, 2);
    assert.match(deprecations[0] ?? "", /gates\.auth\.tokens is deprecated, read as auth\.tokens; move it there/);
    assert.match(deprecations[1] ?? "", /gates\.auth\.readApisOpen is deprecated, read as auth\.readApisOpen/);
  });

  void it("lets the new key win over the old one in the same file, and the environment over both", () => {
    const { config, deprecations } = load(`auth:\n  readApisOpen: true\ngates:\n  auth:\n    readApisOpen: false\n    protectIngest: true\n`, { MESHSIGHT_API_PROTECT_INGEST: "false" });
    assert.equal(config.auth.readApisOpen, true);
    assert.equal(config.auth.protectIngest, false);
    assert.match(deprecations.join("\n"), /gates\.auth\.readApisOpen is deprecated and ignored, as auth\.readApisOpen is set too/);
  });
});
