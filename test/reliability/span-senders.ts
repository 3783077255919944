/**
 * Span traffic for the kill -9 test, sent by real clients: the OpenTelemetry Node SDK's OTLP/gRPC and
 * OTLP/HTTP exporters, and Zipkin v2 JSON over HTTP. Every span is a trace's root SERVER span, so each
 * counts one call of its service in span metrics.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as HttpExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export interface SpanPorts {
  otlpGrpc: number;
  otlpHttp: number;
  zipkin: number;
}

/** Sends `perProtocol` root spans per protocol, each for its own service; resolves with every trace id once all were acknowledged. */
export async function sendRootSpans(ports: SpanPorts, services: { otlpGrpc: string; otlpHttp: string; zipkin: string }, perProtocol: number): Promise<string[]> {
  const grpc = await exportWithSdk(services.otlpGrpc, new GrpcExporter({ url: `http://127.0.0.1:${ports.otlpGrpc}` }), perProtocol);
  const http = await exportWithSdk(services.otlpHttp, new HttpExporter({ url: `http://127.0.0.1:${ports.otlpHttp}/v1/traces` }), perProtocol);
  const zipkin = await postZipkin(ports.zipkin, services.zipkin, perProtocol);
  return [...grpc, ...http, ...zipkin];
}

async function exportWithSdk(service: string, exporter: GrpcExporter | HttpExporter, count: number): Promise<string[]> {
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ "service.name": service }), spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 1_000, maxQueueSize: 1_000 })] });
  const tracer = provider.getTracer("wal-test");
  const traceIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const span = tracer.startSpan(`GET /items/${index}`, { kind: SpanKind.SERVER, attributes: { "http.response.status_code": 200 } }, ROOT_CONTEXT);
    traceIds.push(span.spanContext().traceId);
    span.end();
  }
  // Resolves once every export got its answer: the spans are acknowledged.
  await provider.forceFlush();
  await provider.shutdown();
  return traceIds;
}

/** Posts `count` Zipkin v2 root spans of `service` in one request; resolves with their trace ids once it was acknowledged. */
export async function postZipkin(port: number, service: string, count: number): Promise<string[]> {
  const nowMicros = Date.now() * 1000;
  const spans = Array.from({ length: count }, (_, index) => ({
    traceId: randomBytes(16).toString("hex"),
    id: randomBytes(8).toString("hex"),
    name: `get /items/${index}`,
    kind: "SERVER",
    timestamp: nowMicros - 1_000 + index,
    duration: 1_500,
    localEndpoint: { serviceName: service },
  }));
  const response = await fetch(`http://127.0.0.1:${port}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spans) });
  assert.equal(response.status, 202, await response.text());
  return spans.map((span) => span.traceId);
}
