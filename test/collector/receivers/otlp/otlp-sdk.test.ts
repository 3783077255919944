/**
 * A small instrumented two-service app with the real OpenTelemetry Node SDK: "frontend" exports over
 * OTLP/gRPC, "catalog" over OTLP/HTTP; frontend calls catalog over a real HTTP socket with W3C trace
 * context. The trace, its spans, both services, catalog's endpoint and the relation are then found
 * through meshsight's API. The same scenario runs on both storage adapters (embedded DuckDB and a real
 * ClickHouse 18.16 from test/services).
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as HttpExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { SpanJson } from "../../../../collector/query/trace-json.ts";
import type { TraceSummary } from "../../../../core/storage/port.ts";
import { type TraceHarness, withClickHouseTraceHarness, withTraceHarness } from "../../traces/harness.ts";
import { waitForValue } from "../../../support/wait-for.ts";

const propagator = new W3CTraceContextPropagator();

function provider(serviceName: string, exporter: GrpcExporter | HttpExporter): NodeTracerProvider {
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName, "k8s.namespace.name": "shop", "k8s.pod.name": `${serviceName}-7d9f-abcde` }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
}

/** catalog: a real HTTP server whose handler continues the caller's trace with a SERVER span. */
async function startCatalog(tracerProvider: NodeTracerProvider): Promise<{ port: number; close(): Promise<void> }> {
  const tracer = tracerProvider.getTracer("catalog-app");
  const server = createServer((request, response) => {
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      "GET /products/{id}",
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": "GET", "http.route": "/products/{id}", "url.path": request.url ?? "/", "http.response.status_code": 200 },
      },
      parent,
    );
    response.end(JSON.stringify({ id: 42 }), () => span.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function callCatalog(port: number, path: string, headers: IncomingHttpHeaders): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: "127.0.0.1", port, path, headers }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

const SCENARIO = "a two-service app traced with the OpenTelemetry SDK is found through the API: trace, spans, services, endpoint, relation";

void test(`${SCENARIO} (DuckDB)`, () => withTraceHarness(undefined, twoServiceAppIsFoundThroughTheApi));
void test(`${SCENARIO} (ClickHouse)`, () => withClickHouseTraceHarness(twoServiceAppIsFoundThroughTheApi));

async function twoServiceAppIsFoundThroughTheApi(harness: TraceHarness): Promise<void> {
  const frontendProvider = provider("frontend", new GrpcExporter({ url: `http://127.0.0.1:${harness.ports.otlpGrpc}` }));
  const catalogProvider = provider("catalog", new HttpExporter({ url: `http://127.0.0.1:${harness.ports.otlpHttp}/v1/traces` }));
  const catalog = await startCatalog(catalogProvider);
  let traceId = "";
  try {
    const tracer = frontendProvider.getTracer("frontend-app");
    const root = tracer.startSpan("GET /", { kind: SpanKind.SERVER, attributes: { "http.method": "GET", "http.target": "/", "http.status_code": 200 } });
    traceId = root.spanContext().traceId;
    const rootContext = trace.setSpan(context.active(), root);
    const client = tracer.startSpan(
      "GET",
      { kind: SpanKind.CLIENT, attributes: { "http.request.method": "GET", "server.address": "catalog.shop.svc.cluster.local", "url.full": `http://catalog.shop.svc.cluster.local/products/42` } },
      rootContext,
    );
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(rootContext, client), headers, defaultTextMapSetter);
    const status = await callCatalog(catalog.port, "/products/42", headers);
    client.setAttribute("http.response.status_code", status);
    client.setStatus({ code: SpanStatusCode.OK });
    client.end();
    root.end();
    await Promise.all([frontendProvider.forceFlush(), catalogProvider.forceFlush()]);
  } finally {
    await catalog.close();
    await Promise.all([frontendProvider.shutdown(), catalogProvider.shutdown()]);
  }

  // Exports were acknowledged; deciding and writing happen behind the receivers.
  await harness.flush();
  const found = await waitForValue(async () => {
    const response = await harness.api.inject({ url: "/api/v1/traces?service=catalog.shop" });
    const summaries = response.json<TraceSummary[]>();
    return summaries.find((summary) => summary.traceId === traceId);
  }, "the trace in search results");
  assert.equal(found.spanCount, 3);
  assert.equal(found.rootService, "frontend.shop");
  assert.deepEqual([...found.services].sort(), ["catalog.shop", "frontend.shop"]);

  const traceResponse = await harness.api.inject({ url: `/api/v1/traces/${traceId}` });
  assert.equal(traceResponse.statusCode, 200);
  const spans = traceResponse.json<{ spans: SpanJson[] }>().spans;
  const byKind = new Map(spans.map((span) => [`${span.service} ${span.kind}`, span]));
  const catalogServer = byKind.get("catalog.shop server");
  const frontendClient = byKind.get("frontend.shop client");
  assert.ok(catalogServer && frontendClient, `spans: ${[...byKind.keys()].join(", ")}`);
  assert.equal(catalogServer.parentSpanId, frontendClient.spanId, "context crossed the real HTTP hop");
  assert.equal(catalogServer.endpoint, "GET:/products/{id}");
  assert.equal(catalogServer.instance, "catalog-7d9f-abcde.shop");
  assert.equal(frontendClient.peerService, "catalog.shop");
  assert.equal(frontendClient.endpoint, "GET:/products/{id}", "the client span names the callee's endpoint, grouped the same way");

  const services = (await harness.api.inject({ url: "/api/v1/services" })).json<{ name: string }[]>();
  assert.deepEqual(services.map((service) => service.name).filter((name) => name.endsWith(".shop")).sort(), ["catalog.shop", "frontend.shop"]);
  const endpoints = (await harness.api.inject({ url: "/api/v1/services/catalog.shop/endpoints" })).json<{ name: string }[]>();
  assert.deepEqual(endpoints.map((endpoint) => endpoint.name), ["GET:/products/{id}"]);
  const topology = (await harness.api.inject({ url: "/api/v1/topology" })).json<{ edges: { source: string; target: string; detectPoints: string[] }[] }>();
  const edge = topology.edges.find((candidate) => candidate.source === "frontend.shop" && candidate.target === "catalog.shop");
  assert.ok(edge, `edges: ${JSON.stringify(topology.edges)}`);
  assert.ok(edge.detectPoints.includes("client"));
}
