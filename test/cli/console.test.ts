import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { waitForValue } from "../support/wait-for.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, runCliOnTerminal, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";

/**
 * What a person sees on the console of `meshsight start`: readable lines on a terminal, JSON lines in a
 * pipe, one line per listener and where to open the page, then a line when data first arrives and a
 * periodic summary of what arrived and what was refused.
 */

const LISTENERS = ["als", "http", "otlp-grpc", "otlp-http", "zipkin"];

interface LogRecord {
  level?: unknown;
  msg?: string;
  component?: string;
  receiver?: string;
  count?: number;
  perSecond?: Record<string, number>;
  rejected?: number;
  url?: string;
}

const dataDirs: string[] = [];
const runs: CliRun[] = [];
after(() => {
  for (const run of runs) killIfRunning(run);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function startArgs(): { args: string[]; env: Record<string, string> } {
  const dataDir = mkdtempSync(join(tmpdir(), "meshsight-console-"));
  dataDirs.push(dataDir);
  return { args: ["start", "--http-port", "0", "--host", "127.0.0.1"], env: { MESHSIGHT_DATA_DIR: dataDir, ...RECEIVERS_ON_FREE_PORTS } };
}

/** An Istio access-log line of a call that happened just now, so the live receiver takes it. */
function istioLineNow(requestId: string): string {
  return `[${new Date().toISOString()}] "GET /reviews/1 HTTP/1.1" 200 - via_upstream - "-" 0 295 7 6 "-" "curl/8.5.0" "${requestId}" "reviews:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:41854 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.reviews.default.svc.cluster.local default`;
}

async function postLogs(port: number, lines: readonly string[]): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/logs?format=istio&service=reviews.default`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: `${lines.join("\n")}\n`,
  });
  assert.equal(response.status, 200, await response.text());
}

void describe("the console of meshsight start", () => {
  void it("in a pipe: JSON lines with level names, one line per listener, the page's address, first data and a summary", async () => {
    const { args, env } = startArgs();
    const run = runCli([...args, "--log-summary-interval-seconds", "1"], env);
    runs.push(run);
    const port = await waitForHttpPort(run);
    const records = (): LogRecord[] => run.stdoutLines().map((line) => JSON.parse(line) as LogRecord);
    const opened = await waitForValue(() => records().find((record) => record.msg?.startsWith("open ")), "the open line", 30_000);
    assert.equal(opened.msg, `open http://localhost:${port}/`);
    assert.ok(records().every((record) => ["trace", "debug", "info", "warn", "error", "fatal"].includes(String(record.level))), "levels are names");
    const listening = records().filter((record) => /listening/i.test(record.msg ?? ""));
    assert.deepEqual(listening.map((record) => `${record.msg} ${record.component}`).sort(), LISTENERS.map((component) => `listening ${component}`));
    const messages = records().map((record) => record.msg);
    assert.equal(messages.indexOf("meshsight started"), messages.length - 2, "start-up ends with the started line, then the open line");

    await postLogs(port, [istioLineNow("req-1"), istioLineNow("req-2"), "not an access-log line"]);
    const first = await waitForValue(() => records().find((record) => record.msg?.startsWith("first data")), "the first-data line", 30_000);
    assert.equal(first.msg, "first data on log-post: 2 entries");
    assert.deepEqual([first.receiver, first.count], ["log-post", 2]);
    const summary = await waitForValue(() => records().find((record) => record.msg?.startsWith("ingest over the last")), "a summary line", 30_000);
    assert.equal(summary.rejected, 1);
    assert.deepEqual(Object.keys(summary.perSecond ?? {}), ["log-post"]);
    assert.match(summary.msg ?? "", /: log-post [\d.]+\/s; 1 rejected$/);

    await postLogs(port, [istioLineNow("req-3")]);
    await waitForValue(() => (records().filter((record) => record.msg?.startsWith("ingest over the last")).length >= 2 ? true : undefined), "a second summary", 30_000);
    assert.equal(records().filter((record) => record.msg?.startsWith("first data")).length, 1, "first data is told once per receiver");
    const { code } = await stopWith(run, "SIGINT");
    assert.equal(code, 0, run.stderr());
    assert.equal(run.stderr(), "");
  });

  void it("on a terminal: readable lines (time, level name, message, fields); --log-format json keeps JSON there", async () => {
    const { args, env } = startArgs();
    const run = runCliOnTerminal(args, env);
    runs.push(run);
    const opened = await waitForValue(() => run.stdoutLines().find((line) => / INFO {2}open http:\/\/localhost:\d+\/$/.test(line)), "the open line", 60_000, () => run.stdoutLines().join("\n"));
    assert.match(opened, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}open http:\/\/localhost:\d+\/$/);
    const lines = run.stdoutLines();
    assert.ok(lines.some((line) => /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening {2}component=http host=127\.0\.0\.1 port=(\d+) url=http:\/\/127\.0\.0\.1:\1$/.test(line)), lines.join("\n"));
    assert.ok(lines.some((line) => /^\d\d:\d\d:\d\d\.\d{3} WARN {2}no API tokens configured/.test(line)), lines.join("\n"));
    assert.ok(!lines.some((line) => line.startsWith("{")), lines.join("\n"));
    assert.equal((await stopWith(run, "SIGINT")).code, 0);

    const json = startArgs();
    const jsonRun = runCliOnTerminal([...json.args, "--log-format", "json"], json.env);
    runs.push(jsonRun);
    const started = await waitForValue(() => jsonRun.stdoutLines().find((line) => line.includes('"msg":"meshsight started"')), "the started line", 60_000, () => jsonRun.stdoutLines().join("\n"));
    assert.match(started, /^\{"level":"info","time":"[^"]+","service":"meshsight",/);
    assert.equal((await stopWith(jsonRun, "SIGINT")).code, 0);
  });
});
