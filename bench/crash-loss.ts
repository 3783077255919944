/**
 * What kill -9 loses: a real `meshsight start` (DuckDB, then a private ClickHouse) takes, at the same time,
 * ~1,000 Envoy ALS entries/s over real gRPC, acknowledged OTLP/gRPC exports (the OpenTelemetry SDK's
 * exporter, one 5-span trace each) and acknowledged `POST /api/v1/logs` batches; it is killed with SIGKILL
 * `killAfterMs` into the traffic while all three still send, started again on the same storage and stopped
 * cleanly. Run once with the write-ahead buffer off and once on. Per input kind it prints what was sent,
 * what was acknowledged, what was stored after the restart and what was lost of the acknowledged.
 *
 * ALS has no acknowledgement (Envoy gets none per message), so its "acknowledged" is what the receiver had
 * taken when /metrics was scraped just before the kill; "sent" counts what the client wrote into its socket,
 * in flight at the kill included. Every span is kept (sample rate 1), so each acknowledged span should be
 * stored; traces wait `traces.decisionWaitSeconds` (10 s) for their decision, as by default. Each POST names
 * its own service and each export its own trace, so what was lost is told request by request.
 * Prints, never asserts.
 *
 *   npx tsx bench/crash-loss.ts [killAfterMs=8000] [flushIntervalSeconds=10]
 * ClickHouse is a private server on loopback (test/services), stopped at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { pino } from "pino";
import { buildBookinfoPods } from "../collector/simulator/bookinfo-mesh.ts";
import { simulateBookinfo } from "../collector/simulator/simulate-bookinfo.ts";
import type { SimulationReport } from "../collector/simulator/traffic-report.ts";
import { ClickHouseStorage } from "../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../core/storage/port.ts";
import { startClickHouse } from "../test/services/index.ts";
import { RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort } from "../test/cli/cli-process.ts";
import { inboundLine } from "../test/reliability/inbound-lines.ts";
import { printFigures } from "./collector-harness.ts";

const killAfterMs = Number(process.argv[2] ?? 8_000);
const flushIntervalSeconds = process.argv[3] ?? "10";
/** ~9 ALS entries per bookinfo request. */
const REQUESTS_PER_SECOND = 111;
/** OTLP exports and log POSTs per second each, started on a fixed beat whether or not earlier ones were answered. */
const REQUESTS_PER_SECOND_PER_KIND = 20;
const SPANS_PER_TRACE = 5;
const LINES_PER_POST = 10;
/** Services of the POSTs and spans start with it, so the ALS count can leave them out. */
const BENCH_SERVICE_PREFIX = "crash-";
const RETENTION = { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 3, spansDays: 7, probeResultsDays: 14 };
const logger = pino({ level: "silent" });

interface Store {
  name: string;
  env: Record<string, string>;
  open(): StorageAdapter;
  cleanup(): Promise<void>;
}

/** One input kind's figures: units are entries (ALS), lines (POSTs) or spans (OTLP). */
interface Loss {
  sent: number;
  acknowledged: number;
  stored: number;
  lostOfAcknowledged: number;
}

/** A request sent on the beat: what it carried and whether its answer said it was taken. */
interface SentRequest {
  key: string;
  units: number;
  answer: Promise<boolean>;
}

/** Starts `send` every 1/REQUESTS_PER_SECOND_PER_KIND s until `stop()`, which resolves with every request once all were answered or failed. */
function sendOnBeat(send: (sequence: number) => SentRequest): { stop(): Promise<{ request: SentRequest; isAcknowledged: boolean }[]> } {
  const requests: SentRequest[] = [];
  const timer = setInterval(() => requests.push(send(requests.length)), 1000 / REQUESTS_PER_SECOND_PER_KIND);
  return {
    async stop() {
      clearInterval(timer);
      return Promise.all(requests.map(async (request) => ({ request, isAcknowledged: await request.answer })));
    },
  };
}

/** POST /api/v1/logs, each request as its own service: acknowledged means answered 200. */
function postLogs(base: string, sequence: number): SentRequest {
  const service = `${BENCH_SERVICE_PREFIX}post-${sequence}.default`;
  const lines = Array.from({ length: LINES_PER_POST }, (_, index) => inboundLine(Date.now() - 1_000 + index));
  const answer = fetch(`${base}/api/v1/logs?format=istio&service=${service}&instance=post-1.default`, { method: "POST", headers: { "content-type": "text/plain" }, body: `${lines.join("\n")}\n` }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status === 200;
    },
    () => false,
  );
  return { key: service, units: LINES_PER_POST, answer };
}

/** One trace of SPANS_PER_TRACE spans exported by the SDK's OTLP/gRPC exporter: acknowledged means the export succeeded. */
function exportTrace(tracer: Tracer, finished: InMemorySpanExporter, exporter: OTLPTraceExporter): SentRequest {
  const root = tracer.startSpan("GET /items", { kind: SpanKind.SERVER, attributes: { "http.response.status_code": 200 } }, ROOT_CONTEXT);
  const inTrace = trace.setSpan(ROOT_CONTEXT, root);
  for (let index = 1; index < SPANS_PER_TRACE; index++) tracer.startSpan(`step ${index}`, { kind: SpanKind.INTERNAL }, inTrace).end();
  root.end();
  const spans = finished.getFinishedSpans();
  finished.reset();
  const answer = new Promise<boolean>((resolve) => exporter.export(spans, (result) => resolve(result.code === ExportResultCode.SUCCESS)));
  return { key: root.spanContext().traceId, units: spans.length, answer };
}

function spanSender(port: number): { tracer: Tracer; finished: InMemorySpanExporter; exporter: OTLPTraceExporter; provider: NodeTracerProvider } {
  const finished = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ "service.name": `${BENCH_SERVICE_PREFIX}spans` }), spanProcessors: [new SimpleSpanProcessor(finished)] });
  return { tracer: provider.getTracer("crash-loss"), finished, exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` }), provider };
}

interface Stored {
  /** Relation calls of the ALS traffic: one per leg. */
  alsLegs: number;
  callsByService: Map<string, number>;
  spansByTrace: Map<string, number>;
}

/** The ALS traffic's relation calls, server-side calls by service, and the spans of `traceIds`. */
async function readStored(storage: StorageAdapter, traceIds: readonly string[]): Promise<Stored> {
  await storage.start();
  try {
    const now = Date.now();
    const range = { fromMs: now - 3_600_000, toMs: now + 3_600_000, resolution: "minute", groupByTime: false } as const;
    const relations = await storage.queryMetrics({ scope: "relation", ...range });
    const isBench = (service: string): boolean => service.startsWith(BENCH_SERVICE_PREFIX);
    const alsLegs = relations.filter((row) => !isBench(row.service) && !isBench(row.name)).reduce((total, row) => total + row.calls, 0);
    const callsByService = new Map<string, number>();
    for (const row of await storage.queryMetrics({ scope: "service", ...range })) callsByService.set(row.service, (callsByService.get(row.service) ?? 0) + row.calls);
    const spansByTrace = new Map<string, number>();
    for (const traceId of traceIds) spansByTrace.set(traceId, (await storage.getTrace(traceId)).length);
    return { alsLegs, callsByService, spansByTrace };
  } finally {
    await storage.close();
  }
}

/** Sent, acknowledged and stored units of one kind's requests; `storedOf` tells how many of a request's units storage holds. */
function lossOf(requests: { request: SentRequest; isAcknowledged: boolean }[], storedOf: (request: SentRequest) => number): Loss {
  const loss: Loss = { sent: 0, acknowledged: 0, stored: 0, lostOfAcknowledged: 0 };
  for (const { request, isAcknowledged } of requests) {
    const stored = storedOf(request);
    loss.sent += request.units;
    loss.stored += stored;
    if (isAcknowledged) {
      loss.acknowledged += request.units;
      loss.lostOfAcknowledged += Math.max(0, request.units - stored);
    }
  }
  return loss;
}

/**
 * Relation calls the written ALS entries make: one per sidecar entry, two per gateway entry (caller -> gateway,
 * gateway -> upstream; docs/architecture.md, "Dimensions"). Storage counts legs, so stored legs become entries
 * by the written traffic's ratio (bookinfo: 10 legs per 9 entries, the same for every request).
 */
function legsWritten(report: SimulationReport): number {
  const gateways = new Set(buildBookinfoPods().filter((pod) => pod.role === "router").map((pod) => pod.name));
  return Object.entries(report.entriesByProxy).reduce((legs, [pod, entries]) => legs + (gateways.has(pod) ? 2 * entries : entries), 0);
}

/** Entries the ALS receiver had handed over, from GET /metrics. */
async function entriesTaken(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(/^meshsight_als_entries_total\{[^}]*\} (\S+)$/gm)].reduce((total, match) => total + Number(match[1]), 0);
}

async function measure(store: Store, isWalOn: boolean, dataDir: string): Promise<void> {
  const env = {
    ...RECEIVERS_ON_FREE_PORTS,
    ...store.env,
    MESHSIGHT_DATA_DIR: dataDir,
    MESHSIGHT_WAL: isWalOn ? "on" : "off",
    MESHSIGHT_KUBERNETES: "off",
    MESHSIGHT_FLUSH_INTERVAL_SECONDS: flushIntervalSeconds,
    MESHSIGHT_TRACE_SAMPLE_RATE: "1",
  };
  const first = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], env);
  const base = `http://127.0.0.1:${await waitForHttpPort(first)}`;
  const target = `127.0.0.1:${await waitForListeningPort(first, "als")}`;
  const spans = spanSender(await waitForListeningPort(first, "otlp-grpc"));
  const traffic = simulateBookinfo({ target, ratePerSecond: REQUESTS_PER_SECOND, durationMs: killAfterMs + 4_000, realTime: true });
  const posts = sendOnBeat((sequence) => postLogs(base, sequence));
  const exports = sendOnBeat(() => exportTrace(spans.tracer, spans.finished, spans.exporter));
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  const taken = await entriesTaken(base);
  first.child.kill("SIGKILL");
  const [posted, exported] = await Promise.all([posts.stop(), exports.stop()]);
  await first.exited();
  await spans.exporter.shutdown();
  await spans.provider.shutdown();
  const sent = await traffic;
  const second = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], env);
  await waitForHttpPort(second);
  await stopWith(second, "SIGTERM");
  const stored = await readStored(store.open(), exported.map(({ request }) => request.key));
  const sentEntries = sent.entries.http + sent.entries.tcp;
  const storedEntries = Math.round((stored.alsLegs * sentEntries) / legsWritten(sent));
  const losses: Record<string, Loss> = {
    // Lost of those taken; the scrape runs ~a second before the kill on a loaded machine, so more may be stored.
    "ALS entries (acknowledged: taken when scraped just before the kill)": { sent: sentEntries, acknowledged: taken, stored: storedEntries, lostOfAcknowledged: Math.max(0, taken - storedEntries) },
    "POST /api/v1/logs lines": lossOf(posted, (request) => stored.callsByService.get(request.key) ?? 0),
    "OTLP/gRPC spans": lossOf(exported, (request) => stored.spansByTrace.get(request.key) ?? 0),
  };
  const figures = Object.entries(losses).map(([kind, loss]): [string, string] => [`${kind}, sent / acknowledged / stored after restart / lost of acknowledged`, [loss.sent, loss.acknowledged, loss.stored, loss.lostOfAcknowledged].map((value) => value.toLocaleString("en-US")).join(" / ")]);
  printFigures(`kill -9 after ${killAfterMs} ms, flush every ${flushIntervalSeconds} s, ${store.name}, write-ahead buffer ${isWalOn ? "on" : "off"}`, Object.fromEntries(figures));
}

const duckdb = (dataDir: string): Store => ({
  name: "DuckDB",
  env: {},
  open: () => new DuckDbStorage({ path: join(dataDir, "meshsight.duckdb"), retention: RETENTION, logger }),
  cleanup: async () => undefined,
});
const clickhouse = (url: string) => (): Store => {
  const database = `meshsight_crash_${randomBytes(4).toString("hex")}`;
  return {
    name: "ClickHouse",
    env: { MESHSIGHT_CLICKHOUSE_URL: url, MESHSIGHT_CLICKHOUSE_DATABASE: database },
    open: () => new ClickHouseStorage({ url, database, retention: RETENTION, logger }),
    cleanup: async () => void (await fetch(`${url}/`, { method: "POST", body: `DROP DATABASE IF EXISTS ${database}` })),
  };
};

const clickhouseServer = await startClickHouse();
for (const storeIn of [duckdb, clickhouse(clickhouseServer.url)]) {
  for (const isWalOn of [false, true]) {
    const dataDir = await mkdtemp(join(tmpdir(), "meshsight-crash-loss-"));
    const store = storeIn(dataDir);
    try {
      await measure(store, isWalOn, dataDir);
    } finally {
      await store.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}
await clickhouseServer.stop();
