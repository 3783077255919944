import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { buildApp, type AuthorizeRequest } from "../../core/http/app.ts";
import { httpServerComponent } from "../../core/http/server-component.ts";
import type { Component } from "../../core/lifecycle.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { SpanIngestPort } from "../ingest.ts";
import type { OtlpReceiverConfig } from "./otlp/config.ts";
import { OtlpGrpcReceiver } from "./otlp/otlp-grpc-receiver.ts";
import { otlpHttpRoutes } from "./otlp/otlp-http-routes.ts";
import type { SpanRequestLimits } from "./span-request-limits.ts";
import type { ZipkinReceiverConfig } from "./zipkin/config.ts";
import { zipkinIngestRoutes } from "./zipkin/zipkin-routes.ts";

export interface SpanReceiversConfig {
  otlp: OtlpReceiverConfig;
  zipkin: ZipkinReceiverConfig;
  spanRequests: SpanRequestLimits;
}

export interface SpanReceiversDeps {
  host: string;
  /** Where decoded spans go (collector/ingest.ts); the receivers know nothing of what is behind it. */
  ingest: SpanIngestPort;
  /** Wraps the ingest of one receiver ("otlp-grpc", "otlp-http", "zipkin"), so the console can tell what each takes. */
  countedAs?: (receiver: string, ingest: SpanIngestPort) => SpanIngestPort;
  /** Served on the Zipkin port beside span ingest, as a Zipkin server does. */
  zipkinQueryRoutes: FastifyPluginAsync;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  /** The API's bearer-token check, so the HTTP receivers honour the same tokens (ingest scope) as the API. */
  authorize?: AuthorizeRequest;
}

export interface SpanPorts {
  otlpGrpc: number;
  otlpHttp: number;
  zipkin: number;
}

export interface SpanReceivers {
  components: Component[];
  /** The ports actually bound, once started (configured ones may be 0). */
  boundPorts(): Partial<SpanPorts>;
}

/**
 * The span receivers (docs/traces.md): OTLP/gRPC, OTLP/HTTP and Zipkin, each on its own port. They decode,
 * bound each request by receivers.spanRequests and hand spans to the ingest port.
 */
export function createSpanReceivers(deps: SpanReceiversDeps, config: SpanReceiversConfig): SpanReceivers {
  const { logger, registry, rejects } = deps;
  const receiving = (receiver: string) => ({ ingest: deps.countedAs?.(receiver, deps.ingest) ?? deps.ingest, rejects, maxSpansPerRequest: config.spanRequests.maxSpans });
  const grpc = new OtlpGrpcReceiver({ ...receiving("otlp-grpc"), host: deps.host, port: config.otlp.grpcPort, logger, maxRequestBytes: config.spanRequests.maxBytes });
  // The receiver apps expose /healthz, /readyz and /metrics too (buildApp), which load balancers in front of them use.
  const appDeps = { logger, registry, readinessChecks: [], bodyLimitBytes: config.spanRequests.maxBytes, ...(deps.authorize === undefined ? {} : { authorize: deps.authorize }) };
  const otlpHttp = httpServerComponent({ name: "otlp-http", app: buildApp({ ...appDeps, routes: [otlpHttpRoutes(receiving("otlp-http"))] }), host: deps.host, port: config.otlp.httpPort, logger });
  const zipkin = httpServerComponent({
    name: "zipkin",
    app: buildApp({ ...appDeps, routes: [zipkinIngestRoutes(receiving("zipkin")), deps.zipkinQueryRoutes] }),
    host: deps.host,
    port: config.zipkin.port,
    logger,
  });
  let grpcPort: number | undefined;
  const components: Component[] = [
    {
      name: "receivers.otlp-grpc",
      start: async () => {
        grpcPort = await grpc.start();
        logger.info({ component: "otlp-grpc", host: deps.host, port: grpcPort }, "listening");
      },
      stop: () => grpc.stop(),
    },
    { ...otlpHttp, name: "receivers.otlp-http" },
    { ...zipkin, name: "receivers.zipkin" },
  ];
  return {
    components,
    boundPorts: () => ({
      ...(grpcPort === undefined ? {} : { otlpGrpc: grpcPort }),
      ...optionalPort("otlpHttp", otlpHttp.boundPort()),
      ...optionalPort("zipkin", zipkin.boundPort()),
    }),
  };
}

function optionalPort(key: "otlpHttp" | "zipkin", port: number | undefined): Partial<SpanPorts> {
  return port === undefined ? {} : { [key]: port };
}
