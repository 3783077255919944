import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { buildApp, type AuthorizeRequest } from "../../core/http/app.ts";
import { httpServerComponent } from "../../core/http/server-component.ts";
import type { Component } from "../../core/lifecycle.ts";
import type { StorageReader, StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { zipkinQueryRoutes } from "../query/trace-zipkin-routes.ts";
import { OtlpGrpcReceiver } from "../receivers/otlp/otlp-grpc-receiver.ts";
import { otlpHttpRoutes } from "../receivers/otlp/otlp-http-routes.ts";
import { zipkinIngestRoutes } from "../receivers/zipkin/zipkin-routes.ts";
import type { TracesConfig } from "./config.ts";
import { SpanIngest, type CallIngest } from "./span-ingest.ts";
import type { NameEndpoint } from "./span-mapping.ts";
import { MeshServiceSet, SpanCallDeriver, SpanMetricsSink } from "./span-metrics.ts";
import { TailSampler } from "./tail-sampler.ts";

export interface TracePorts {
  otlpGrpc: number;
  otlpHttp: number;
  zipkin: number;
}

export interface TraceComponentsDeps {
  config: TracesConfig;
  host: string;
  /** 0 picks free ports; the bound ones are logged and readable through boundPorts(). */
  ports: TracePorts;
  /** The collector pipeline: span metrics join the access-log minute aggregates. */
  pipeline: CallIngest;
  /** The collector's endpoint grouper, so span endpoints and access-log endpoints share names and caps. */
  grouper: { nameEndpoint: NameEndpoint };
  writer: Pick<StorageWriter, "writeSpans">;
  reader: StorageReader;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  /** The API's bearer-token check, so the HTTP receivers honour the same tokens (ingest scope) as the API. */
  authorize?: AuthorizeRequest;
  clock?: () => number;
}

export interface TraceComponents {
  /** Start order: sampler (flushes to storage), then the receivers; stop runs in reverse. */
  components: Component[];
  /**
   * Services measured by mesh sidecars (spanMetrics "non-mesh" skips them). Envoy's own spans fill it;
   * the collector should also note the service of every proxy it receives access logs from.
   */
  meshServices: MeshServiceSet;
  spanIngest: SpanIngest;
  sampler: TailSampler;
  boundPorts(): Partial<TracePorts>;
}

/**
 * Assembles trace ingestion (docs/traces.md): OTLP/gRPC, OTLP/HTTP and Zipkin receivers decode and hand
 * spans to SpanIngest, which maps them to mesh dimensions and hands them to tail sampling; each decided
 * trace goes to storage (when kept) and to span metrics (always), so callers are found whatever the order. OTLP/HTTP and Zipkin each get their own HTTP server on their own port; the
 * Zipkin port also serves the Zipkin query API, as a Zipkin server does.
 */
export function createTraceComponents(deps: TraceComponentsDeps): TraceComponents {
  const { config, registry, rejects, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const meshServices = new MeshServiceSet();
  const spanMetrics = new SpanMetricsSink({ deriver: new SpanCallDeriver(config.spanMetrics, meshServices), pipeline: deps.pipeline, rejects });
  const sampler = new TailSampler({
    policy: {
      decisionWaitMs: config.decisionWaitSeconds * 1000,
      slowTraceMs: config.slowTraceMs,
      sampleRate: config.sampleRate,
      maxBufferedSpans: config.maxBufferedSpans,
      // One memory knob for spans held in the collector: as many may wait for storage as half the decision buffer.
      maxSpansAwaitingStorage: Math.max(1, Math.floor(config.maxBufferedSpans / 2)),
    },
    writer: deps.writer,
    registry,
    rejects,
    logger,
    clock,
    onDecided: (spans) => spanMetrics.count(spans),
  });
  const spanIngest = new SpanIngest({
    nameEndpoint: (...args) => deps.grouper.nameEndpoint(...args),
    pipeline: deps.pipeline,
    sampler,
    registry,
    rejects,
  });
  const limits = { ingest: spanIngest, rejects, maxSpansPerRequest: config.maxSpansPerRequest };
  const grpc = new OtlpGrpcReceiver({ ...limits, host: deps.host, port: deps.ports.otlpGrpc, logger, maxRequestBytes: config.maxRequestBytes });
  // The receiver apps expose /healthz, /readyz and /metrics too (buildApp), which load balancers in front of them use.
  const appDeps = { logger, registry, readinessChecks: [], bodyLimitBytes: config.maxRequestBytes, ...(deps.authorize === undefined ? {} : { authorize: deps.authorize }) };
  const otlpHttp = httpServerComponent({ name: "otlp-http", app: buildApp({ ...appDeps, routes: [otlpHttpRoutes(limits)] }), host: deps.host, port: deps.ports.otlpHttp, logger });
  const zipkin = httpServerComponent({
    name: "zipkin",
    app: buildApp({ ...appDeps, routes: [zipkinIngestRoutes(limits), zipkinQueryRoutes(deps.reader, clock)] }),
    host: deps.host,
    port: deps.ports.zipkin,
    logger,
  });
  let grpcPort: number | undefined;

  const components: Component[] = [
    { name: "traces.sampler", start: async () => sampler.start(), stop: () => sampler.stop() },
    {
      name: "traces.otlp-grpc",
      start: async () => {
        grpcPort = await grpc.start();
        logger.info({ component: "otlp-grpc", host: deps.host, port: grpcPort }, "listening");
      },
      stop: () => grpc.stop(),
    },
    { ...otlpHttp, name: "traces.otlp-http" },
    { ...zipkin, name: "traces.zipkin" },
  ];
  return {
    components,
    meshServices,
    spanIngest,
    sampler,
    boundPorts: () => ({
      ...(grpcPort === undefined ? {} : { otlpGrpc: grpcPort }),
      ...optionalPort("otlpHttp", otlpHttp.boundPort()),
      ...optionalPort("zipkin", zipkin.boundPort()),
    }),
  };
}

function optionalPort(key: "otlpHttp" | "zipkin", port: number | undefined): Partial<TracePorts> {
  return port === undefined ? {} : { [key]: port };
}
