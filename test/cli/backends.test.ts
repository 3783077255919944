import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { useClickHouse, useRedis, type RunningService } from "../services/index.ts";
import { killIfRunning, runCli, stopWith, waitForHttpPort, type CliRun } from "./cli-process.ts";

let clickhouse: RunningService;
let redis: RunningService;
let run: CliRun | undefined;
// A database of its own, so the table check proves this run created the schema.
const database = `meshsight_cli_${randomBytes(4).toString("hex")}`;

before(async () => {
  [clickhouse, redis] = await Promise.all([useClickHouse(), useRedis()]);
});
after(async () => {
  killIfRunning(run);
  await fetch(`${clickhouse.url}/`, { method: "POST", body: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await Promise.all([clickhouse.stop(), redis.stop()]);
});

async function clickhouseQuery(sql: string): Promise<string> {
  const response = await fetch(`${clickhouse.url}/`, { method: "POST", body: sql });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return text.trim();
}

void describe("meshsight start on ClickHouse and Redis", () => {
  void it("creates the schema, becomes ready, and exits 0 on SIGTERM", async () => {
    run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], {
      MESHSIGHT_CLICKHOUSE_URL: clickhouse.url,
      MESHSIGHT_CLICKHOUSE_DATABASE: database,
      MESHSIGHT_REDIS_URL: redis.url,
      MESHSIGHT_QUEUE_PREFIX: `cli${randomBytes(3).toString("hex")}`,
    });
    const port = await waitForHttpPort(run);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { storage: "up", queue: "up" } });
    assert.equal(await clickhouseQuery(`EXISTS TABLE ${database}.metrics_minute`), "1");
    assert.match(run.stdoutLines().find((line) => line.includes('"meshsight started"')) ?? "", /"storage":"clickhouse","queue":"bullmq"/);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^meshsight_build_info\{/m);

    const { code, elapsedMs } = await stopWith(run, "SIGTERM");
    assert.equal(code, 0, run.stderr());
    assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms to exit`);
  });
});
