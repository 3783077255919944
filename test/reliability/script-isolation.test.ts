/**
 * Script cases run in a child process with only the environment they declare (docs/probes.md "Writing a
 * script case"): a secret in the prober's own environment, as a ClickHouse password would be, is out of
 * their reach through process.env, /proc/self/environ, the prober's /proc/<pid>/environ and any file
 * outside their directory.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createScriptKind, DEFAULT_SCRIPT_KIND_OPTIONS } from "../../prober/kinds/script/script-kind.ts";
import { contextWithTimeout } from "../prober/kinds/support/servers.ts";

const casesDir = fileURLToPath(new URL("./script-cases/", import.meta.url));
const SECRET_NAME = "MESHSIGHT_TEST_CLICKHOUSE_PASSWORD";
const SECRET = "s3cret-never-seen-by-cases";

describe("script case isolation", () => {
  before(() => {
    // The prober's own environment: the process running the kind is the prober.
    process.env[SECRET_NAME] = SECRET;
  });

  after(() => {
    delete process.env[SECRET_NAME];
  });

  it("cannot see a secret variable of the server's environment, only what it declares, nor read outside its directory", async () => {
    const lines: string[] = [];
    const kind = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, env: { PROBE_REGION: "eu" }, onLog: (line) => lines.push(line) });
    const outcome = await kind.run(kind.parseSpec({ file: "peeks.ts", env: { CHECKOUT_USER: "probe" } }), "t", contextWithTimeout(10_000));
    assert.equal(outcome.status, "success", outcome.message);
    assert.equal(lines.filter((line) => line.includes(SECRET)).length, 0, lines.join("\n"));
    assert.deepEqual(lines, [
      `env: ${JSON.stringify({ PROBE_REGION: "eu", CHECKOUT_USER: "probe" })}`,
      "cannot read /proc/self/environ: ERR_ACCESS_DENIED",
      `cannot read /proc/${process.pid}/environ: ERR_ACCESS_DENIED`,
      "cannot read /etc/passwd: ERR_ACCESS_DENIED",
      `read ${casesDir}inside.txt: case data\n`,
    ]);
  });
});
