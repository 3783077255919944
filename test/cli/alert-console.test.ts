import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { waitFor, waitForValue } from "../support/wait-for.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForListeningPort, type CliRun } from "./cli-process.ts";

/**
 * What a person watching `meshsight start` sees when a fault comes and goes: the analyzer's "alert fired"
 * line naming the root cause, then "alert resolved". A real process, a real ALS stream from the bookinfo
 * simulator, its stdout read as it is written.
 */

const MINUTE_MS = 60_000;
/**
 * The rule reads the last complete minute and the current one (the window ends with the partial minute): it
 * fires on the faulty complete minute and clears at the next boundary, when that minute leaves the window.
 */
const RULES = `rules:
  - name: service_sla_low
    expression: sla < 95
    scope: service
    period: 2
    count: 1
    message: "Success rate of service {name} is {value}%"
`;

interface LogRecord {
  msg?: string;
  rootCause?: string;
}

void describe("alert lines on the console of meshsight start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "meshsight-alert-console-"));
  let run: CliRun | undefined;

  before(async () => {
    writeFileSync(join(dataDir, "rules.yaml"), RULES);
    run = runCli(["start", "--host", "127.0.0.1", "--http-port", "0", "--flush-interval-seconds", "1"], {
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_DATA_DIR: dataDir,
      MESHSIGHT_KUBERNETES: "off",
      MESHSIGHT_ALARM_RULES_FILE: join(dataDir, "rules.yaml"),
      MESHSIGHT_ANALYZER_INTERVAL_MS: "500",
    });
  });
  after(() => {
    killIfRunning(run);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const records = (): LogRecord[] => (run?.stdoutLines() ?? []).map((line) => JSON.parse(line) as LogRecord);
  const messages = (): string => records().map((record) => record.msg).join(" | ");
  const lineAbout = (change: "fired" | "resolved"): LogRecord | undefined => records().find((record) => record.msg?.startsWith(`alert ${change}: service_sla_low on ratings.default`) === true);

  void it("writes 'alert fired' with the root cause when ratings fails, and 'alert resolved' once its minute is over", async () => {
    assert.ok(run);
    const alsPort = await waitForListeningPort(run, "als");
    // The faulty minute must still be the last complete one when the analyzer looks: not in a minute's last seconds.
    await waitFor(() => Date.now() % MINUTE_MS < 45_000, "a minute with time left in it", MINUTE_MS);
    const lastCompleteMinute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const report = await simulateBookinfo({ target: `127.0.0.1:${alsPort}`, requests: 120, startTimeMs: lastCompleteMinute + 1_000, durationMs: 50_000, faults: [{ kind: "abort", service: "ratings", fraction: 0.5 }] });
    assert.deepEqual(report.streamErrors, []);

    const fired = await waitForValue(() => lineAbout("fired"), "the alert fired line", 30_000, messages);
    assert.match(fired.msg ?? "", /^alert fired: service_sla_low on ratings\.default; root cause ratings\.default( \([^)]+\))?: .+/);
    assert.equal(fired.rootCause, "ratings.default");
    // No call in the next minute is no failure either (docs/alerting.md): the alert clears once the faulty minute leaves the window.
    const resolved = await waitForValue(() => lineAbout("resolved"), "the alert resolved line", 2 * MINUTE_MS, messages);
    assert.match(resolved.msg ?? "", /^alert resolved: service_sla_low on ratings\.default; root cause ratings\.default/);
    assert.equal((await stopWith(run, "SIGTERM")).code, 0);
  });
});
