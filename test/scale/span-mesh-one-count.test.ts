/**
 * One count for a call a sidecar logged and an application traced (docs/traces.md, "One count: the
 * mesh-measured rule"): real `meshsight start` processes, Envoy's ALS over real gRPC for the `reviews` sidecar,
 * spans of the same calls from the OpenTelemetry SDK over OTLP/HTTP, in both orders and with a restart of
 * the span-receiving process in between. Two collectors on one ClickHouse and Redis (one takes the logs,
 * the other the spans), and one process on DuckDB with its state in files. `reviews` is counted once, from
 * its logs; `legacy`, which runs no sidecar, is counted from its spans.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { pino } from "pino";
import { istioNodeMetadata, buildBookinfoPods } from "../../collector/simulator/bookinfo-mesh.ts";
import { loadAlsProtocol, type AlsMessageObject } from "../../collector/simulator/als-protocol.ts";
import { httpEntry, identifier, streamMessage } from "../../collector/simulator/envoy-entries.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { type CliRun, killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort } from "../cli/cli-process.ts";
import { useClickHouse, useRedis, type RunningService } from "../services/index.ts";
import { KEEP_EVERYTHING } from "../support/test-storages.ts";
import { waitFor } from "../support/wait-for.ts";

const logger = pino({ level: "silent" });
const protocol = loadAlsProtocol();
const reviewsPod = buildBookinfoPods().find((pod) => pod.service === "reviews");
assert.ok(reviewsPod !== undefined);
const sidecar = reviewsPod;

/** One HTTP call to a service: when it started, and its status. */
interface Call {
  startMs: number;
  status: number;
}

function calls(count: number, startMs: number, failing: number): Call[] {
  return Array.from({ length: count }, (_, index) => ({ startMs: startMs + index, status: index < failing ? 503 : 200 }));
}

interface Replica {
  run: CliRun;
  base: string;
  alsPort: number;
  otlpHttpPort: number;
}

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], {
    ...RECEIVERS_ON_FREE_PORTS,
    MESHSIGHT_KUBERNETES: "off",
    // Every span trace is decided two seconds after it arrives: the logs of the spans-first case come within that.
    MESHSIGHT_TRACE_DECISION_WAIT_SECONDS: "2",
    MESHSIGHT_FLUSH_INTERVAL_SECONDS: "1",
    ...env,
  });
  try {
    const [http, alsPort, otlpHttpPort] = [await waitForHttpPort(run), await waitForListeningPort(run, "als"), await waitForListeningPort(run, "otlp-http")];
    return { run, base: `http://127.0.0.1:${http}`, alsPort, otlpHttpPort };
  } catch (error) {
    killIfRunning(run);
    throw error;
  }
}

async function stopReplica(replica: Replica): Promise<void> {
  const { code } = await stopWith(replica.run, "SIGTERM");
  assert.equal(code, 0, replica.run.stderr());
}

/** What the `reviews` sidecar's Envoy sends over ALS for its inbound calls: one stream, one message. */
async function sendAccessLogs(replica: Replica, sent: readonly Call[]): Promise<void> {
  const client = new Client(`127.0.0.1:${replica.alsPort}`, credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      const stream = client.makeClientStreamRequest<AlsMessageObject, object>(
        protocol.methodPath("v3"),
        (message) => protocol.encode(message, "v3"),
        () => ({}),
        (error: ServiceError | null) => (error ? reject(error) : resolve()),
      );
      const entries = sent.map((call, index) =>
        httpEntry({
          startTimeMs: call.startMs,
          lastDownstreamTxMs: 4,
          durationMs: 4,
          upstreamCluster: "inbound|9080||",
          downstreamRemote: "10.44.9.9:40000",
          downstreamLocal: `${sidecar.ip}:9080`,
          upstreamRemote: `127.0.0.1:9080`,
          method: "GET",
          authority: "reviews:9080",
          path: `/reviews/${index}`,
          requestId: randomBytes(8).toString("hex"),
          responseCode: call.status,
        }),
      );
      stream.write(streamMessage({ identifier: identifier({ id: sidecar.nodeId, cluster: sidecar.nodeCluster, metadata: istioNodeMetadata(sidecar) }, "http_envoy_accesslog"), http: entries }));
      stream.end();
    });
  } finally {
    client.close();
  }
}

/** What an OpenTelemetry-instrumented service exports: one SERVER span per call, each its own trace. */
async function sendSpans(replica: Replica, service: string, pod: string, sent: readonly Call[]): Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": service, "k8s.namespace.name": "default", "k8s.pod.name": pod }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${replica.otlpHttpPort}/v1/traces` }))],
  });
  try {
    const tracer = provider.getTracer("one-count-test");
    sent.forEach((call, index) => {
      const span = tracer.startSpan("GET /reviews/{id}", {
        kind: SpanKind.SERVER,
        startTime: new Date(call.startMs + 1),
        attributes: { "http.request.method": "GET", "url.path": `/reviews/${index}`, "http.response.status_code": call.status },
      });
      span.end(new Date(call.startMs + 4));
    });
    await provider.forceFlush();
  } finally {
    await provider.shutdown();
  }
}

/** Traces the process has decided since it started (each counted then, or found measured by the mesh). */
async function decidedTraces(replica: Replica): Promise<number> {
  const text = await (await fetch(`${replica.base}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith("meshsight_trace_sampling_decisions_total{")) total += Number(line.split(" ").at(-1));
  return total;
}

async function waitForDecisions(replica: Replica, expected: number): Promise<void> {
  let seen = 0;
  await waitFor(async () => (seen = await decidedTraces(replica)) === expected, `${expected} decided traces`, 30_000, () => String(seen));
}

async function serviceCounts(storage: StorageAdapter, fromMs: number): Promise<Record<string, string>> {
  const rows = await storage.queryMetrics({ scope: "service", fromMs: fromMs - 2 * 60_000, toMs: fromMs + 10 * 60_000, resolution: "minute", groupByTime: false });
  const counts: Record<string, { calls: number; errors: number }> = {};
  for (const row of rows) {
    const sums = (counts[row.service] ??= { calls: 0, errors: 0 });
    sums.calls += row.calls;
    sums.errors += row.errors;
  }
  return Object.fromEntries(Object.entries(counts).map(([service, sums]) => [service, `${sums.calls} calls ${sums.errors} errors`]));
}

/**
 * Who receives what, for one deployment. `restartSpans` restarts the process that receives spans (and
 * returns the new one); the logs' process may be the same one (one process on DuckDB).
 */
interface Deployment {
  logs(): Replica;
  spans(): Replica;
  restartSpans(): Promise<void>;
}

/**
 * Logs first (then the span process restarts, then the spans), and spans first (then the logs within the
 * decision wait). Returns the time of the first call, to read the counts around it.
 */
async function playBothOrders(deployment: Deployment): Promise<number> {
  const firstMs = Date.now() - 10_000;
  const logsFirst = calls(6, firstMs, 2);
  const spansFirst = calls(4, firstMs + 1_000, 1);
  const legacy = calls(3, firstMs + 2_000, 1);

  await sendAccessLogs(deployment.logs(), logsFirst);
  await deployment.restartSpans();
  await sendSpans(deployment.spans(), "reviews", sidecar.name, logsFirst);
  await waitForDecisions(deployment.spans(), logsFirst.length);

  await sendSpans(deployment.spans(), "reviews", sidecar.name, spansFirst);
  await sendSpans(deployment.spans(), "legacy", "legacy-5f7c9-x2x9q", legacy);
  await sendAccessLogs(deployment.logs(), spansFirst);
  await waitForDecisions(deployment.spans(), logsFirst.length + spansFirst.length + legacy.length);
  return firstMs;
}

const EXPECTED = { "reviews.default": "10 calls 3 errors", "legacy.default": "3 calls 1 errors" };

void describe("a call logged by a sidecar and traced by its application counts once", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-one-count-"));
  let redis: RunningService;
  let clickhouse: RunningService;
  const started: Replica[] = [];
  const start = async (name: string, env: Record<string, string>): Promise<Replica> => {
    mkdirSync(join(dir, name), { recursive: true });
    const replica = await startReplica({ MESHSIGHT_DATA_DIR: join(dir, name), ...env });
    started.push(replica);
    return replica;
  };

  before(async () => {
    [redis, clickhouse] = await Promise.all([useRedis(), useClickHouse()]);
  });

  after(async () => {
    for (const replica of started) killIfRunning(replica.run);
    await Promise.all([redis.stop(), clickhouse.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  void it("two collectors on one ClickHouse and Redis, one taking the logs and the other the spans", async () => {
    const database = `one_count_${process.pid}_${Date.now()}`;
    const shared = { MESHSIGHT_CLICKHOUSE_URL: clickhouse.url, MESHSIGHT_CLICKHOUSE_DATABASE: database, MESHSIGHT_REDIS_URL: redis.url, MESHSIGHT_QUEUE_PREFIX: `onecount${randomBytes(3).toString("hex")}` };
    const logs = await start("logs", shared);
    let spans = await start("spans", shared);
    const firstMs = await playBothOrders({
      logs: () => logs,
      spans: () => spans,
      restartSpans: async () => {
        await stopReplica(spans);
        spans = await start("spans", shared);
      },
    });
    await Promise.all([stopReplica(logs), stopReplica(spans)]);
    const storage = new ClickHouseStorage({ url: clickhouse.url, database, retention: KEEP_EVERYTHING, logger });
    try {
      await storage.start();
      assert.deepEqual(await serviceCounts(storage, firstMs), EXPECTED);
    } finally {
      await storage.close();
      await fetch(`${clickhouse.url}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, { method: "POST" });
    }
  });

  void it("one process on DuckDB, its marks in a file, restarted between the logs and the spans", async () => {
    let only = await start("single", {});
    const firstMs = await playBothOrders({
      logs: () => only,
      spans: () => only,
      restartSpans: async () => {
        await stopReplica(only);
        only = await start("single", {});
      },
    });
    await stopReplica(only);
    const storage = new DuckDbStorage({ path: join(dir, "single", "meshsight.duckdb"), retention: KEEP_EVERYTHING, logger });
    try {
      await storage.start();
      assert.deepEqual(await serviceCounts(storage, firstMs), EXPECTED);
    } finally {
      await storage.close();
    }
  });
});
