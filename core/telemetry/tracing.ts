import type { Logger } from "pino";
import type { Component } from "../lifecycle.ts";

export interface SelfTracingOptions {
  /** OTLP gRPC endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, read by cli.ts); undefined turns tracing off. */
  otlpEndpoint: string | undefined;
  serviceName: string;
  serviceVersion: string;
  logger: Logger;
  /** Bound on one export, so a dead collector cannot hold shutdown past its deadline. */
  exportTimeoutMs?: number;
}

interface Shutdownable {
  shutdown(): Promise<void>;
}

/**
 * meshsight's own traces via the OpenTelemetry Node SDK. Code creates spans through @opentelemetry/api,
 * which is a no-op until this component registers a provider, so tracing off costs nothing. The SDK is
 * imported only when enabled: it is large, and off is the common case.
 */
export function createSelfTracing(options: SelfTracingOptions): Component {
  const { otlpEndpoint, logger } = options;
  let sdk: Shutdownable | undefined;
  return {
    name: "self-tracing",
    async start() {
      if (otlpEndpoint === undefined) {
        logger.debug("self-tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)");
        return;
      }
      const [{ NodeSDK, resources }, { OTLPTraceExporter }] = await Promise.all([
        import("@opentelemetry/sdk-node"),
        import("@opentelemetry/exporter-trace-otlp-grpc"),
      ]);
      const nodeSdk = new NodeSDK({
        serviceName: options.serviceName,
        resource: resources.resourceFromAttributes({ "service.version": options.serviceVersion }),
        traceExporter: new OTLPTraceExporter({ url: otlpEndpoint, timeoutMillis: options.exportTimeoutMs ?? 2_000 }),
        instrumentations: [],
      });
      nodeSdk.start();
      sdk = nodeSdk;
      logger.info({ otlpEndpoint }, "self-tracing on");
    },
    async stop() {
      // shutdown() flushes spans still buffered in the batch processor.
      await sdk?.shutdown();
      sdk = undefined;
    },
  };
}
