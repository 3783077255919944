import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { killIfRunning, runCli, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * `meshsight ingest` as an operator runs it: lines on stdin into the storage of a data directory, then
 * `meshsight start` on the same directory serves what was ingested.
 */

const dataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-ingest-"));
let server: CliRun | undefined;
after(() => {
  killIfRunning(server);
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The two Istio default-format examples of Istio's access-log task (https://istio.io/latest/docs/tasks/observability/logs/access-log/) (the client
 * sidecar's outbound line, then the server sidecar's inbound line), stamped a few seconds ago so they fall
 * inside the aggregator's lateness window and the API's default time range.
 */
function istioExampleLines(timeMs: number): string {
  const time = new Date(timeMs).toISOString();
  return [
    `[${time}] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default`,
    `[${time}] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default`,
  ].join("\n");
}

function minuteText(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(":00.000Z", "Z");
}

void describe("meshsight ingest", () => {
  void it("reads stdin into the data directory's storage, prints the totals and the time range, and exits 0", async () => {
    // Blank lines are skipped; a line an hour older than the lines read before it is late, and says so like any reject.
    const recentMs = Date.now() - 5_000;
    const stdin = `${istioExampleLines(recentMs)}\nnot an access-log line\n\n${istioExampleLines(recentMs - 3_600_000).split("\n")[1] ?? ""}\n${istioExampleLines(recentMs)}\n`;
    const run = runCli(["ingest", "--format", "istio", "--service", "productpage.default"], { MESHSIGHT_DATA_DIR: dataDir }, { text: stdin });
    const code = await run.exited();
    assert.equal(code, 0, run.stderr());
    const output = run.stdoutLines();
    assert.match(output[0] ?? "", /^ingested 6 lines in [\d.]+ s \([\d,]+ lines\/s\): 4 accepted, 2 rejected$/);
    assert.equal(output[1], "rejects by reason: access-log/field_count 1, aggregate/late 1");
    const fromMs = Math.floor(recentMs / 60_000) * 60_000;
    assert.deepEqual(output.slice(2), [`time range: ${minuteText(fromMs)} to ${minuteText(fromMs + 60_000)} (from=${fromMs}&to=${fromMs + 60_000})`]);
    assert.doesNotMatch(run.stderr(), /\r/, "no progress line when stderr is not a terminal");
  });

  void it("reports lines no call can be made of as rejects, never as accepted, and exits 3 having stored nothing", async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-ingest-envoy-"));
    try {
      // Envoy's default format names no cluster: a sidecar's line cannot say which way the call went.
      const time = new Date(Date.now() - 5_000).toISOString();
      const line = `[${time}] "GET /ratings/1 HTTP/1.1" 200 - 0 42 7 5 "-" "curl/8.5.0" "r-1" "ratings:9080" "10.44.1.30:9080"`;
      const run = runCli(["ingest", "--format", "envoy", "--service", "ratings.default"], { MESHSIGHT_DATA_DIR: ownDataDir }, { text: `${line}\n${line}\n` });
      assert.equal(await run.exited(), 3, run.stderr());
      const output = run.stdoutLines();
      assert.match(output[0] ?? "", /^ingested 2 lines in [\d.]+ s \([\d,]+ lines\/s\): 0 accepted, 2 rejected$/);
      assert.deepEqual(output.slice(1), ["rejects by reason: mesh/sidecar_entry_without_cluster 2", "failed: nothing stored: none of the 2 lines was accepted"]);
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  void it("stops at Ctrl-C while stdin is still open, keeps what it took, and exits 1", async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-ingest-interrupt-"));
    try {
      const stdin = { text: `${istioExampleLines(Date.now() - 5_000)}\n`, keepOpen: true };
      const run = runCli(["ingest", "--format", "istio", "--service", "productpage.default", "--log-level", "debug"], { MESHSIGHT_DATA_DIR: ownDataDir }, stdin);
      // The last pipeline component started: from here on the command is reading stdin, which stays open.
      await waitFor(() => /"component":"collector.peers","msg":"component started"/.test(run.stderr()), "ingest to start", 60_000, () => run.stderr());
      const { code } = await stopWith(run, "SIGINT");
      assert.equal(code, 1, run.stderr());
      assert.match(run.stdoutLines()[0] ?? "", /^interrupted after [02] lines in /);
      assert.match(run.stderr(), /"msg":"DuckDB storage closed"/, "storage was flushed and closed, not abandoned");
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  void it("exits 3 when more lines than --max-reject-share were refused, having stored the rest", async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-ingest-share-"));
    try {
      const stdin = `${istioExampleLines(Date.now() - 5_000)}\nnot an access-log line\n`;
      const args = ["ingest", "--format", "istio", "--service", "productpage.default"];
      const strict = runCli([...args, "--max-reject-share", "0.2"], { MESHSIGHT_DATA_DIR: ownDataDir }, { text: stdin });
      assert.equal(await strict.exited(), 3, strict.stderr());
      assert.match(strict.stdoutLines()[0] ?? "", /: 2 accepted, 1 rejected$/);
      assert.equal(strict.stdoutLines().at(-1), "failed: 33.3% of the lines were not accepted, more than --max-reject-share 0.2");
      const lenient = runCli([...args, "--max-reject-share=0.5"], { MESHSIGHT_DATA_DIR: ownDataDir }, { text: stdin });
      assert.equal(await lenient.exited(), 0, lenient.stderr());
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  void it("reads named files in turn, each by its own time, so an older file after a newer one loads whole", async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-ingest-files-"));
    try {
      const newer = join(ownDataDir, "newer.log");
      const older = join(ownDataDir, "older.log");
      const newerMs = Date.now() - 86_400_000;
      writeFileSync(newer, `${istioExampleLines(newerMs)}\n`);
      writeFileSync(older, `${istioExampleLines(newerMs - 3_600_000)}\nnot an access-log line\n`);
      const run = runCli(["ingest", "--format", "istio", "--service", "productpage.default", newer, older], { MESHSIGHT_DATA_DIR: ownDataDir });
      assert.equal(await run.exited(), 0, run.stderr());
      const output = run.stdoutLines();
      assert.match(output[0] ?? "", /^ingested 5 lines in [\d.]+ s \([\d,]+ lines\/s\): 4 accepted, 1 rejected$/);
      const fromMs = Math.floor((newerMs - 3_600_000) / 60_000) * 60_000;
      const toMs = Math.floor(newerMs / 60_000) * 60_000 + 60_000;
      assert.deepEqual(output.slice(1), ["rejects by reason: access-log/field_count 1", `time range: ${minuteText(fromMs)} to ${minuteText(toMs)} (from=${fromMs}&to=${toMs})`]);
      const missing = runCli(["ingest", "--format", "istio", join(ownDataDir, "missing.log")], { MESHSIGHT_DATA_DIR: ownDataDir });
      assert.equal(await missing.exited(), 2);
      assert.match(missing.stderr(), /cannot read .*missing\.log: ENOENT/);
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  void it("leaves what it ingested for meshsight start on the same data directory", async () => {
    server = runCli(["start", "--http-port", "0", "--host", "127.0.0.1", "--als-port", "0"], { MESHSIGHT_DATA_DIR: dataDir });
    const port = await waitForHttpPort(server);
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/services`);
    assert.equal(response.status, 200);
    const services = (await response.json()) as { name: string; calls: number; errors: number }[];
    // Only the inbound (server-side) lines count for the service; both 418s are client errors, not server errors.
    const productpage = services.find((service) => service.name === "productpage.default");
    assert.deepEqual({ calls: productpage?.calls, errors: productpage?.errors }, { calls: 2, errors: 0 }, JSON.stringify(services));
    const { code } = await stopWith(server, "SIGINT");
    assert.equal(code, 0, server.stderr());
  });

  void it("refuses an unknown --format with exit 2 and one line naming the formats", async () => {
    const run = runCli(["ingest", "--format", "nginx"], { MESHSIGHT_DATA_DIR: dataDir }, { text: "whatever\n" });
    assert.equal(await run.exited(), 2);
    const lines = run.stderr().trimEnd().split("\n");
    assert.equal(lines.length, 1, run.stderr());
    assert.match(lines[0] ?? "", /^meshsight: ingest: --format: unknown access-log format "nginx": use .*istio.*$/);
    assert.deepEqual(run.stdoutLines(), []);
  });

  void it("refuses a malformed --role and a config error with exit 2", async () => {
    const role = runCli(["ingest", "--format", "istio", "--role", "mesh"], { MESHSIGHT_DATA_DIR: dataDir }, { text: "" });
    assert.equal(await role.exited(), 2);
    assert.match(role.stderr(), /--role "mesh": expected one of sidecar, router, waypoint/);
    const config = runCli(["ingest", "--format", "istio", "--lateness-seconds", "never"], { MESHSIGHT_DATA_DIR: dataDir }, { text: "" });
    assert.equal(await config.exited(), 2);
    assert.match(config.stderr(), /collector\.latenessSeconds = "never"/);
  });
});
