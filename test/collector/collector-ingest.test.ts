import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Registry } from "prom-client";
import type { Collector } from "../../collector/collector.ts";
import { buildApp } from "../../core/http/app.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { startTestCollector, type TestCollector } from "../support/test-collector.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * File tailing as the running product does it: createCollector with receivers.accessLogFiles tails the
 * files into the pipeline, the flusher writes to a real (embedded) storage, and the query API reads it back.
 */

const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const logger = pino({ level: "silent" });
const DEADLINE_MS = 30_000;

/**
 * The Istio default-format examples of Istio's access-log task (https://istio.io/latest/docs/tasks/observability/logs/access-log/) with a recent time,
 * inside the aggregator's lateness window. The inbound line is the server side, so it counts for the service.
 */
function inboundLine(timeMs: number, requestId: string): string {
  return `[${new Date(timeMs).toISOString()}] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "${requestId}" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default\n`;
}
function outboundLine(timeMs: number): string {
  return `[${new Date(timeMs).toISOString()}] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default\n`;
}

interface ServiceRow {
  name: string;
  calls: number;
}


void describe("collector tailing access-log files", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-collector-ingest-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "access.log");
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  const recentMs = Date.now() - 10_000;
  const running: TestCollector[] = [];

  before(async () => {
    mkdirSync(dataDir);
    await storage.start();
  });
  after(async () => {
    for (const collector of running) await collector.stop();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startCollector(accessLogFiles: Record<string, unknown>): Promise<TestCollector> {
    const handle = await startTestCollector({ storage, logger, receivers: { accessLogFiles }, dataDir });
    running.push(handle);
    return handle;
  }

  async function services(collector: Collector, range = ""): Promise<ServiceRow[]> {
    const app = buildApp({ logger, registry: createMetricsRegistry({ version: "test", collectDefaults: false }), readinessChecks: [], bodyLimitBytes: 1 << 20, routes: collector.routes });
    try {
      const response = await app.inject({ method: "GET", url: `/api/v1/services${range}` });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<ServiceRow[]>();
    } finally {
      await app.close();
    }
  }

  /** Polls the query API until `service` shows `calls` (flushes run every second), or fails with what it saw. */
  async function waitForCalls(collector: Collector, service: string, calls: number, range = ""): Promise<void> {
    let seen: ServiceRow[] = [];
    await waitFor(
      async () => {
        seen = await services(collector, range);
        return seen.find((row) => row.name === service)?.calls === calls;
      },
      `${service} to reach ${calls} calls`,
      DEADLINE_MS,
      () => JSON.stringify(seen),
    );
  }


  async function rejectCount(registry: Registry, reason: string, source = "access-log"): Promise<number> {
    const metric = await registry.getSingleMetric("meshsight_rejected_total")?.get();
    return metric?.values.find((value) => value.labels.source === source && value.labels.reason === reason)?.value ?? 0;
  }

  void it("tails lines already in the file and lines appended later into the query API, counting bad lines", async () => {
    writeFileSync(logFile, inboundLine(recentMs, "req-1") + outboundLine(recentMs));
    const first = await startCollector({ paths: logFile, service: "productpage.default", instance: "productpage-v1-abc" });
    await waitForCalls(first.collector, "productpage.default", 1);

    appendFileSync(logFile, inboundLine(recentMs, "req-2") + "this is not an access log line\n" + inboundLine(recentMs, "req-3"));
    await waitForCalls(first.collector, "productpage.default", 3);
    assert.equal(await rejectCount(first.registry, "field_count"), 1);
  });

  void it("saves offsets under the data directory on stop and resumes after them without replaying", async () => {
    await running[0]?.stop();
    const offsetsFile = join(dataDir, "access-log-offsets.json");
    assert.ok(existsSync(offsetsFile), "offsets default to <dataDir>/access-log-offsets.json");
    assert.match(readFileSync(offsetsFile, "utf8"), /access\.log/);

    // Written while no collector runs: the restarted one must take exactly these two on top of the three.
    appendFileSync(logFile, inboundLine(recentMs, "req-4") + inboundLine(recentMs, "req-5"));
    const second = await startCollector({ paths: [logFile], service: "productpage.default" });
    await waitForCalls(second.collector, "productpage.default", 5);
    await second.stop();
    const after = await services(second.collector);
    assert.equal(after.find((row) => row.name === "productpage.default")?.calls, 5, "nothing was read twice");
  });

  void it("names the proxy from kubelet log paths with identity kubernetes, by the service its callers use", async () => {
    // The pod name alone would give the workload httpbin-v1.foo; the inbound SNI says callers use httpbin.foo.
    const podDir = join(dir, "pods", "foo_httpbin-v1-d66dcfdc5-kh6v7_4f1c2e0a", "istio-proxy");
    mkdirSync(podDir, { recursive: true });
    writeFileSync(join(podDir, "0.log"), inboundLine(recentMs, "req-k1") + inboundLine(recentMs, "req-k2"));
    const collector = await startCollector({
      paths: `${join(dir, "pods")}/*/istio-proxy/*.log`,
      identity: "kubernetes",
      // In a directory nobody created yet, as with ClickHouse storage where no DuckDB file makes the data directory.
      offsetsFile: join(dir, "state", "kubernetes-offsets.json"),
    });
    await waitForCalls(collector.collector, "httpbin.foo", 2);
    await collector.stop();
    assert.match(readFileSync(join(dir, "state", "kubernetes-offsets.json"), "utf8"), /0\.log/);
  });

  void it("loads the history of a two-day-old file whole at its own time, and judges lines appended later by the clock", async () => {
    const oldMs = Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000;
    const historyFile = join(dir, "history.log");
    writeFileSync(historyFile, [0, 1_000, 61_000, 62_000, 63_000].map((offset, index) => inboundLine(oldMs + offset, `h-${index}`)).join(""));
    const collector = await startCollector({ paths: historyFile, service: "ratings.default", offsetsFile: join(dir, "history-offsets.json") });
    await waitForCalls(collector.collector, "ratings.default", 5, `?from=${oldMs}&to=${oldMs + 2 * 60_000}`);
    // Appended now, the same old time is live input: late by the clock.
    appendFileSync(historyFile, inboundLine(oldMs, "h-late"));
    await waitFor(async () => (await rejectCount(collector.registry, "late", "aggregate")) === 1, "the appended old line to be late", DEADLINE_MS);
    await collector.stop();
    assert.equal((await services(collector.collector, `?from=${oldMs}&to=${oldMs + 2 * 60_000}`)).find((row) => row.name === "ratings.default")?.calls, 5);
  });

  void it("refuses an unknown access-log format when the collector is created", async () => {
    await assert.rejects(
      startTestCollector({ storage, logger, receivers: { accessLogFiles: { paths: logFile, format: "nginx" } }, dataDir }),
      /nginx/,
    );
  });
});
