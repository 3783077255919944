import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InvalidEndpointRulesError, parseEndpointRules, readEndpointRulesFile } from "../../../collector/endpoints/endpoint-rules.ts";

void test("a rules file is read with per-service and global rules", async () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-rules-"));
  try {
    const file = join(dir, "endpoints.yaml");
    writeFileSync(file, "rules:\n  - pattern: /api/products/{id}\n    service: shop.default\n  - pattern: /users/{uid}/orders/{*}\n");
    assert.deepEqual(await readEndpointRulesFile(file), [
      { pattern: "/api/products/{id}", service: "shop.default" },
      { pattern: "/users/{uid}/orders/{*}" },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("bad rules documents fail with the source and the problem named", () => {
  assert.throws(() => parseEndpointRules("rules: [", "a.yaml"), (error: unknown) => error instanceof InvalidEndpointRulesError && /a\.yaml: not valid YAML/.test(error.message));
  assert.throws(() => parseEndpointRules("rules:\n  - patern: /x\n", "b.yaml"), /b\.yaml: rules\.0/);
  assert.throws(() => parseEndpointRules("rules:\n  - pattern: /a/{*}/b\n", "c.yaml"), /c\.yaml: .*last segment/);
  assert.throws(() => parseEndpointRules("nothing: here\n", "d.yaml"), /d\.yaml: rules/);
});
