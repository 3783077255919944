/**
 * The published entry as `npm install` leaves it: `bin/meshsight.mjs` runs the JavaScript that the `prepare`
 * script builds into dist/, with no TypeScript loader (a stray .ts import would fail to load at all), and
 * finds the files it reads at run time (DuckDB and ClickHouse migrations, the built-in page) from there.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { useClickHouse, type RunningService } from "../services/index.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "meshsight-compiled-"));
const database = `meshsight_compiled_${randomBytes(4).toString("hex")}`;
let clickhouse: RunningService;
let run: CliRun | undefined;

/** What `npm install` runs as the `prepare` script, so the test runs the JavaScript of the sources under test. */
function buildScriptOf(): string {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.equal(scripts.prepare, "npm run build");
  assert.equal(scripts.start, "node bin/meshsight.mjs start", "npm start runs the compiled entry");
  const build = scripts.build ?? "";
  assert.match(build, /^node /, "the build needs nothing but node");
  return build;
}

before(async () => {
  const [command = "", ...args] = buildScriptOf().split(" ");
  assert.equal(command, "node");
  const built = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  built.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => built.once("exit", resolve));
  assert.equal(code, 0, `the build failed: ${stderr}`);
  clickhouse = await useClickHouse();
});
after(async () => {
  killIfRunning(run);
  rmSync(dataDir, { recursive: true, force: true });
  await fetch(`${clickhouse.url}/`, { method: "POST", body: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await clickhouse.stop();
});

void describe("bin/meshsight.mjs on the built JavaScript", () => {
  void it("starts to ready on DuckDB, serves the built-in page from dist/, and exits 0 on SIGTERM", async () => {
    run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], { MESHSIGHT_DATA_DIR: dataDir, ...RECEIVERS_ON_FREE_PORTS }, undefined, "compiled");
    const base = `http://127.0.0.1:${await waitForHttpPort(run)}`;
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { storage: "up", queue: "up" } });
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="importmap">/);
    const script = await fetch(`${base}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    assert.match(run.stdoutLines().find((line) => line.includes('"meshsight started"')) ?? "", /"storage":"duckdb","queue":"inline"/);
    const { code } = await stopWith(run, "SIGTERM");
    assert.equal(code, 0, run.stderr());
  });

  for (const storage of ["duckdb", "clickhouse"] as const) {
    void it(`ingests an empty input into ${storage}: nothing stored, exit 0 as documented`, async () => {
      const env: Record<string, string> = storage === "duckdb" ? { MESHSIGHT_DATA_DIR: dataDir } : { MESHSIGHT_DATA_DIR: dataDir, MESHSIGHT_CLICKHOUSE_URL: clickhouse.url, MESHSIGHT_CLICKHOUSE_DATABASE: database };
      run = runCli(["ingest", "--format", "istio"], env, { text: "" }, "compiled");
      assert.equal(await run.exited(), 0, run.stderr());
      assert.equal(run.stdoutLines().length, 1, run.stdoutLines().join("\n"));
      assert.match(run.stdoutLines()[0] ?? "", /^ingested 0 lines in [\d.]+ s \(0 lines\/s\): 0 accepted, 0 rejected$/);
      assert.equal(run.stderr(), "");
    });
  }
});
