import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { killIfRunning, runCli, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";

const dataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-"));
let run: CliRun | undefined;
after(() => {
  killIfRunning(run);
  rmSync(dataDir, { recursive: true, force: true });
});

void describe("meshsight start with the embedded defaults (DuckDB, inline queue)", () => {
  void it("becomes ready, serves metrics, and exits 0 within 5 s of SIGINT", async () => {
    run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], { MESHSIGHT_DATA_DIR: dataDir });
    const port = await waitForHttpPort(run);
    const base = `http://127.0.0.1:${port}`;

    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { storage: "up", queue: "up" } });
    assert.ok(existsSync(join(dataDir, "meshsight.duckdb")), "the DuckDB file lives under MESHSIGHT_DATA_DIR");

    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^# TYPE process_resident_memory_bytes gauge$/m);
    assert.match(text, /^meshsight_build_info\{version="[^"]+",node_version="v[\d.]+"\} 1$/m);
    assert.match(text, /^meshsight_http_requests_total\{method="GET",route="\/readyz",status_code="200"\} 1$/m);

    const started = run.stdoutLines().find((line) => line.includes('"meshsight started"'));
    assert.match(started ?? "", /"storage":"duckdb","queue":"inline"/);

    const { code, elapsedMs } = await stopWith(run, "SIGINT");
    assert.equal(code, 0, run.stderr());
    assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms to exit`);
    assert.ok(run.stdoutLines().some((line) => line.includes('"msg":"stopped"') && line.includes('"isClean":true')));
    assert.doesNotMatch(run.stderr(), /\bat .*\.ts:\d+/, "no stack traces on a clean run");
  });
});
