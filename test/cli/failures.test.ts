import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../services/index.ts";
import { runCli } from "./cli-process.ts";

const dataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-fail-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const stderrLines = (text: string): string[] => text.split("\n").filter((line) => line.trim() !== "");

void describe("meshsight start failures", () => {
  void it("exits 2 with one line naming key, value and source on a bad config value", async () => {
    const run = runCli(["start"], { MESHSIGHT_HTTP_PORT: "abc", MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 2);
    assert.deepEqual(stderrLines(run.stderr()), ['meshsight: invalid config: http.port = "abc" (from MESHSIGHT_HTTP_PORT): expected an integer 0..65535']);
  });

  void it("exits 2 on an unknown flag or command", async () => {
    const flag = runCli(["start", "--htp-port", "1"]);
    assert.equal(await flag.exited(), 2);
    assert.equal(stderrLines(flag.stderr()).length, 1);
    assert.match(flag.stderr(), /invalid command line: .*--htp-port/);
    const command = runCli(["strat"]);
    assert.equal(await command.exited(), 2);
    assert.match(command.stderr(), /unknown command "strat"/);
  });

  void it("exits 1 with one clear line when ClickHouse cannot be reached", async () => {
    const closedPort = await freePort();
    const run = runCli(["start", "--http-port", "0"], { MESHSIGHT_CLICKHOUSE_URL: `http://127.0.0.1:${closedPort}`, MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 1);
    const lines = stderrLines(run.stderr());
    assert.equal(lines.length, 1, run.stderr());
    assert.match(lines[0] ?? "", new RegExp(`^meshsight: cannot reach ClickHouse at http://127\\.0\\.0\\.1:${closedPort}/?: .*ECONNREFUSED`));
    assert.ok(!run.stdoutLines().some((line) => line.includes('"listening"')), "HTTP must not start without storage");
  });

  void it("exits 1 with one clear line when Redis cannot be reached", async () => {
    const closedPort = await freePort();
    const run = runCli(["start", "--http-port", "0"], { MESHSIGHT_REDIS_URL: `redis://127.0.0.1:${closedPort}`, MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 1);
    const lines = stderrLines(run.stderr());
    assert.equal(lines.length, 1, run.stderr());
    assert.match(lines[0] ?? "", new RegExp(`^meshsight: cannot reach Redis at redis://127\\.0\\.0\\.1:${closedPort}: `));
  });

  void it("prints commands, flags and env names for --help and exits 0", async () => {
    const run = runCli(["--help"]);
    assert.equal(await run.exited(), 0);
    const help = run.stdoutLines().join("\n");
    assert.match(help, /Usage: meshsight <command>/);
    assert.match(help, /start/);
    for (const name of ["--http-port", "MESHSIGHT_HTTP_PORT", "MESHSIGHT_ALS_PORT", "MESHSIGHT_CLICKHOUSE_URL", "MESHSIGHT_REDIS_URL", "MESHSIGHT_CONFIG"]) assert.ok(help.includes(name), name);
  });
});
