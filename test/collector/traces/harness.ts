/**
 * A real collector for trace tests: pipeline, aggregator, flusher, storage (in-memory DuckDB unless a test
 * brings another adapter), the trace components and span receivers on free ports, and the main API app with the v1 query and
 * trace routes. Nothing is mocked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Flusher } from "../../../collector/aggregate/flusher.ts";
import { MinuteAggregator } from "../../../collector/aggregate/minute-aggregator.ts";
import { Sampler } from "../../../collector/aggregate/sampler.ts";
import { EndpointGrouper } from "../../../collector/endpoints/endpoint-grouper.ts";
import { MeshResolver } from "../../../collector/mesh/mesh-resolver.ts";
import { NullPeerResolver } from "../../../collector/mesh/peer-resolver.ts";
import { CollectorPipeline } from "../../../collector/pipeline.ts";
import { readApiRoutes } from "../../../collector/query/read-api-routes.ts";
import { receiversSection } from "../../../collector/receivers/config.ts";
import { createSpanReceivers } from "../../../collector/receivers/span-receivers.ts";
import type { SpanRequestLimits } from "../../../collector/receivers/span-request-limits.ts";
import { zipkinQueryRoutes } from "../../../collector/query/trace-zipkin-routes.ts";
import { tracesSection, type TracesConfig } from "../../../collector/traces/config.ts";
import { MeshMeasuredServices } from "../../../collector/traces/mesh-measured.ts";
import { createTraceComponents, type TraceComponents } from "../../../collector/traces/trace-components.ts";
import { buildApp, type AuthorizeRequest } from "../../../core/http/app.ts";
import type { Component } from "../../../core/lifecycle.ts";
import { FileStateStore } from "../../../core/state/file-state.ts";
import type { StateStore } from "../../../core/state/port.ts";
import { DEFAULT_STATE_LIMITS } from "../../../core/state/state-stores.ts";
import { ClickHouseStorage } from "../../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import type { RetentionPolicy, StorageAdapter, StorageWriter } from "../../../core/storage/port.ts";
import { freshDatabaseName, rawClient } from "../../core/storage/clickhouse/helpers.ts";
import { useClickHouse } from "../../services/index.ts";
import { telemetry, type Telemetry } from "../aggregate/fixtures.ts";

export interface TraceHarness {
  traces: TraceComponents;
  /** The shared mesh-measured marks (a state file of this harness, or the store a test brings). */
  meshServices: MeshMeasuredServices;
  storage: StorageAdapter;
  api: FastifyInstance;
  telemetry: Telemetry;
  ports: { otlpGrpc: number; otlpHttp: number; zipkin: number };
  /** Decides every waiting trace, writes kept spans, and flushes span metrics to storage. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export const LONG_RETENTION: RetentionPolicy = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

type SpanWriter = Pick<StorageWriter, "writeSpans">;

export interface TraceHarnessOptions {
  /** The storage adapter under test (not started yet; the harness starts and closes it). Default: in-memory DuckDB. */
  storage?: StorageAdapter;
  /** Stands between tail sampling and storage, e.g. to hold writes back and watch backpressure. */
  wrapSpanWriter?: (writer: SpanWriter) => SpanWriter;
  /** The receivers' token check, as cli.ts passes it; none by default. */
  authorize?: AuthorizeRequest;
  /** Bounds of one span request (receivers.spanRequests) over the defaults. */
  spanRequests?: Partial<SpanRequestLimits>;
  /** Where the mesh-measured marks live (e.g. Redis, shared with another harness); default a file of this harness. */
  meshState?: StateStore;
}

export async function startTraceHarness(overrides: Partial<TracesConfig> = {}, options: TraceHarnessOptions = {}): Promise<TraceHarness> {
  const t = telemetry();
  const logger = pino({ level: "silent" });
  const storage = options.storage ?? new DuckDbStorage({ path: ":memory:", retention: LONG_RETENTION, logger });
  await storage.start();
  const grouper = new EndpointGrouper({ registry: t.registry });
  const resolver = new MeshResolver({ peers: new NullPeerResolver(), nameEndpoint: (...args) => grouper.nameEndpoint(...args), rejects: t.rejects });
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects });
  const sampler = new Sampler({ registry: t.registry, uniformRate: 0 });
  const flusher = new Flusher({ aggregator, sampler, writer: storage, registry: t.registry, rejects: t.rejects, logger });
  const pipeline = new CollectorPipeline({
    resolve: (proxy, entry, out) => resolver.resolve(proxy, entry, out),
    aggregator,
    sampler,
    backpressure: [flusher],
    registry: t.registry,
    rejects: t.rejects,
  });
  const config: TracesConfig = { ...tracesSection.schema.parse({}), decisionWaitSeconds: 600, sampleRate: 1, ...overrides };
  const stateDir = mkdtempSync(join(tmpdir(), "meshsight-traces-"));
  const meshState = options.meshState ?? new FileStateStore({ file: join(stateDir, "mesh-measured.json"), limits: DEFAULT_STATE_LIMITS, now: Date.now });
  await meshState.start();
  const meshServices = new MeshMeasuredServices({ store: meshState, markTtlMs: 10 * 60_000, registry: t.registry, logger });
  const traces = createTraceComponents({ config, pipeline, grouper, meshServices, writer: options.wrapSpanWriter?.(storage) ?? storage, registry: t.registry, rejects: t.rejects, logger });
  const receivers = createSpanReceivers(
    {
      host: "127.0.0.1",
      ingest: traces.spanIngest,
      zipkinQueryRoutes: zipkinQueryRoutes(storage),
      registry: t.registry,
      rejects: t.rejects,
      logger,
      ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
    },
    receiversSection.schema.parse({ otlp: { grpcPort: 0, httpPort: 0 }, zipkin: { port: 0 }, spanRequests: options.spanRequests ?? {} }),
  );
  const started: Component[] = [];
  for (const component of [...traces.components, ...receivers.components]) {
    await component.start();
    started.push(component);
  }
  const api = buildApp({
    logger,
    registry: t.registry,
    readinessChecks: [],
    bodyLimitBytes: 1024 * 1024,
    routes: readApiRoutes(storage),
  });
  const bound = receivers.boundPorts();
  return {
    traces,
    meshServices,
    storage,
    api,
    telemetry: t,
    ports: { otlpGrpc: bound.otlpGrpc ?? 0, otlpHttp: bound.otlpHttp ?? 0, zipkin: bound.zipkin ?? 0 },
    async flush() {
      await traces.flush();
      await flusher.flush();
    },
    async stop() {
      for (const component of started.reverse()) await component.stop();
      await api.close();
      await flusher.stop();
      await meshServices.drain();
      await meshState.stop();
      await storage.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Runs `scenario` against a fresh collector on `storage` (default: in-memory DuckDB) and stops it afterwards. */
export async function withTraceHarness(storage: StorageAdapter | undefined, scenario: (harness: TraceHarness) => Promise<void>): Promise<void> {
  const harness = await startTraceHarness({}, storage === undefined ? {} : { storage });
  try {
    await scenario(harness);
  } finally {
    await harness.stop();
  }
}

/** Runs `scenario` on a collector whose storage is a fresh database on the test ClickHouse server (dropped afterwards). */
export async function withClickHouseTraceHarness(scenario: (harness: TraceHarness) => Promise<void>): Promise<void> {
  const clickhouse = await useClickHouse();
  const database = freshDatabaseName("ms_traces");
  const admin = rawClient(clickhouse.url);
  try {
    await withTraceHarness(new ClickHouseStorage({ url: clickhouse.url, database, retention: LONG_RETENTION, logger: pino({ level: "silent" }) }), scenario);
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
    await clickhouse.stop();
  }
}
