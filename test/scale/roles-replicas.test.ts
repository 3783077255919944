/**
 * Two real `meshsight start` processes on one Redis and one ClickHouse: each analysis round runs on one
 * of them only, each scheduled probe run happens once, and each alert reaches the webhook once.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliRun, killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort } from "../cli/cli-process.ts";
import { useClickHouse, useRedis, type RunningService } from "../services/index.ts";
import { waitFor } from "../support/wait-for.ts";

const ROUND_MS = 1_000;
const PROBE_EVERY_MS = 1_000;
const ROUNDS_OBSERVED = 6;

interface WebhookDelivery {
  change: string;
  alert: { id: string; rule: string; entity: string };
}

/** The webhook receiver: counts what each alert notification looked like. */
async function startWebhookReceiver(): Promise<{ server: Server; url: string; deliveries: WebhookDelivery[] }> {
  const deliveries: WebhookDelivery[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      deliveries.push(JSON.parse(body) as WebhookDelivery);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, url: `http://127.0.0.1:${address.port}/hook`, deliveries };
}

/** The probe target: always failing (so the probe alert fires), counting every request. */
async function startProbeTarget(): Promise<{ server: Server; origin: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.writeHead(503).end("down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, origin: `http://127.0.0.1:${address.port}`, hits: () => hits };
}

function roundsIn(metricsText: string): number {
  let total = 0;
  for (const line of metricsText.split("\n")) if (line.startsWith("meshsight_analyzer_rounds_total{")) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  return total;
}

void describe("two meshsight replicas on one Redis and one ClickHouse", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-replicas-"));
  const database = `meshsight_replicas_${randomBytes(4).toString("hex")}`;
  const prefix = `replicas${randomBytes(3).toString("hex")}`;
  let clickhouse: RunningService;
  let redis: RunningService;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let target: Awaited<ReturnType<typeof startProbeTarget>>;
  const runs: CliRun[] = [];
  const bases: string[] = [];

  const startReplica = async (name: string): Promise<void> => {
    const run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], {
      MESHSIGHT_DATA_DIR: join(dir, name),
      MESHSIGHT_CLICKHOUSE_URL: clickhouse.url,
      MESHSIGHT_CLICKHOUSE_DATABASE: database,
      MESHSIGHT_REDIS_URL: redis.url,
      MESHSIGHT_QUEUE_PREFIX: prefix,
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_KUBERNETES: "off",
      MESHSIGHT_ANALYZER_INTERVAL_MS: String(ROUND_MS),
      MESHSIGHT_ALARM_RULES_FILE: join(dir, "rules.yaml"),
      MESHSIGHT_PROBE_CASE_FILES: join(dir, "cases.yaml"),
      MESHSIGHT_PROBE_RESULT_FLUSH_INTERVAL_MS: "100",
      // The probe target listens on loopback, which the egress policy denies unless allowed.
      MESHSIGHT_PROBE_EGRESS_ALLOW: "127.0.0.0/8",
      MESHSIGHT_ALERT_OUTPUTS: JSON.stringify([{ name: "hook", type: "webhook", url: webhook.url }]),
    });
    runs.push(run);
    bases.push(`http://127.0.0.1:${await waitForHttpPort(run)}`);
  };
  const totalRounds = async (): Promise<number> => {
    const texts = await Promise.all(bases.map(async (base) => (await fetch(`${base}/metrics`)).text()));
    return texts.reduce((total, text) => total + roundsIn(text), 0);
  };
  const clickhouseCount = async (sql: string): Promise<number> => {
    const response = await fetch(`${clickhouse.url}/`, { method: "POST", body: sql });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return Number(text.trim());
  };

  before(async () => {
    [clickhouse, redis] = await Promise.all([useClickHouse(), useRedis()]);
    [webhook, target] = await Promise.all([startWebhookReceiver(), startProbeTarget()]);
    for (const name of ["a", "b"]) mkdirSync(join(dir, name));
    // Period 2: a round in the first second of a minute sees no results for that minute yet, and with
    // period 1 the alert would resolve there and fire again (docs/alerting.md: no data counts as clear),
    // which is the rule's behaviour, not a second delivery by the other replica.
    writeFileSync(
      join(dir, "rules.yaml"),
      `rules:
  - name: probe_failing
    scope: probe
    expression: probe_success_rate < 100
    period: 2
    count: 1
    outputs: [hook]
`,
    );
    writeFileSync(
      join(dir, "cases.yaml"),
      `cases:
  - name: down
    kind: http
    targets: ["${target.origin}/health"]
    schedule: { every: ${PROBE_EVERY_MS}ms }
    timeout: 2s
    spec: { expectedStatus: [200] }
`,
    );
    // One after the other: the first creates the ClickHouse schema.
    await startReplica("a");
    await startReplica("b");
  });

  after(async () => {
    for (const run of runs) killIfRunning(run);
    await fetch(`${clickhouse.url}/`, { method: "POST", body: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await new Promise((resolve) => webhook.server.close(resolve));
    await new Promise((resolve) => target.server.close(resolve));
    await Promise.all([clickhouse.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  void it("runs one analysis round per interval, each probe run once, and delivers the alert once", async () => {
    await waitFor(() => webhook.deliveries.some((delivery) => delivery.change === "firing"), "the probe alert to reach the webhook", 30_000);

    const startedMs = Date.now();
    const roundsBefore = await totalRounds();
    const hitsBefore = target.hits();
    await waitFor(async () => (await totalRounds()) >= roundsBefore + ROUNDS_OBSERVED, `${ROUNDS_OBSERVED} more rounds`, ROUNDS_OBSERVED * ROUND_MS + 15_000);
    const elapsedMs = Date.now() - startedMs;
    const hits = target.hits() - hitsBefore;

    // Rounds fire on interval boundaries: N rounds span at least N - 1 of them. Two private loops (one per
    // replica) would finish N rounds in about half that time.
    assert.ok(elapsedMs >= (ROUNDS_OBSERVED - 1.5) * ROUND_MS, `${ROUNDS_OBSERVED} rounds took only ${elapsedMs} ms: rounds ran on both replicas`);
    // One run per probe interval (the same window, with one interval of phase either side); doubled runs would be twice this.
    const expectedHits = elapsedMs / PROBE_EVERY_MS;
    assert.ok(hits >= expectedHits - 2 && hits <= expectedHits + 1, `${hits} probe runs in ${elapsedMs} ms`);

    for (const run of runs) {
      const { code } = await stopWith(run, "SIGTERM");
      assert.equal(code, 0, run.stderr());
    }
    // Every request the target saw is one stored result: no run happened twice, none was lost.
    assert.equal(await clickhouseCount(`SELECT count() FROM ${database}.probe_results WHERE probe = 'down'`), target.hits());

    const firing = webhook.deliveries.filter((delivery) => delivery.change === "firing");
    assert.equal(firing.length, 1, `firing deliveries: ${JSON.stringify(firing.map((delivery) => delivery.alert.id))}`);
    assert.equal(firing[0]?.alert.entity, `down on ${target.origin}/health`);
    assert.deepEqual(
      webhook.deliveries.map((delivery) => `${delivery.change} ${delivery.alert.id}`),
      [`firing ${firing[0]?.alert.id}`],
      "the still-firing alert is not sent again by the other replica",
    );
  });
});
