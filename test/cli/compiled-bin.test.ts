/**
 * The published entry as `npm install` leaves it: `bin/meshsight.mjs` runs the JavaScript that the `prepare`
 * script builds into dist/, with no TypeScript loader (a stray .ts import would fail to load at all), and
 * finds the files it reads at run time (DuckDB and ClickHouse migrations, the built-in page, the runtime a
 * script probe case is compiled with) from there.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { useClickHouse, type RunningService } from "../services/index.ts";
import { waitFor } from "../support/wait-for.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SDK = fileURLToPath(new URL("../../prober/sdk/define-probe.ts", import.meta.url));
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
  void it("starts to ready on DuckDB, serves the built-in page from dist/, runs a script case, and exits 0 on SIGTERM", async () => {
    const scripts = join(dataDir, "scripts");
    mkdirSync(scripts);
    writeFileSync(join(scripts, "compiled.ts"), `import { defineProbe } from ${JSON.stringify(SDK)};\nexport default defineProbe({ name: "compiled", async run(ctx) { await ctx.check("runs", async () => undefined); } });\n`);
    writeFileSync(join(dataDir, "cases.yaml"), `cases:\n  - name: scripted\n    kind: script\n    targets: ["http://127.0.0.1:9"]\n    schedule: { every: 1s }\n    spec: { file: compiled.ts }\n`);
    const probes = { MESHSIGHT_PROBE_CASE_FILES: join(dataDir, "cases.yaml"), MESHSIGHT_PROBE_SCRIPT_CASES_DIR: scripts, MESHSIGHT_PROBE_RESULT_FLUSH_INTERVAL_MS: "100" };
    run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], { MESHSIGHT_DATA_DIR: dataDir, ...RECEIVERS_ON_FREE_PORTS, ...probes }, undefined, "compiled");
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
    let results: { status: string; message: string }[] = [];
    await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/probes/scripted/results`);
      results = response.ok ? ((await response.json()) as typeof results) : [];
      return results.length > 0;
    }, "a stored run of the script case", 30_000);
    assert.equal(results[0]?.status, "success", results[0]?.message);
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
