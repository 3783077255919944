/**
 * Span names meet mesh names (docs/traces.md "Mapping rules"): the callee of a client span is named in the
 * caller's namespace like the callee's own spans, instances are `<pod>.<namespace>` like mesh instances,
 * and HTTP endpoints go through the same grouping as the paths sidecars log.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { EndpointGrouper } from "../../../collector/endpoints/endpoint-grouper.ts";
import type { SpanInput } from "../../../collector/span-input.ts";
import { instanceOf, mapSpan, peerServiceOf } from "../../../collector/traces/span-mapping.ts";
import type { TopologyEdge } from "../../../collector/query/query-service.ts";
import { startTraceHarness } from "./harness.ts";

const shop = { "service.name": "frontend", "k8s.namespace.name": "shop" };

function span(kind: SpanInput["kind"], attributes: Record<string, string>, resourceAttributes: Record<string, string> = shop, ids: Partial<SpanInput> = {}): SpanInput {
  const startTimeUnixNano = BigInt(Date.now() - 60_000) * 1_000_000n;
  return { traceId: "a".repeat(32), spanId: "b".repeat(16), parentSpanId: "", name: "GET", kind, startTimeUnixNano, durationNs: 1_000_000, hasErrorStatus: false, statusMessage: "", attributes, resourceAttributes, ...ids };
}

void test("the callee of a client span: peer.service, then the host, cluster host names, bare names in the caller's namespace", () => {
  const cases: [Record<string, string>, string][] = [
    [{ "peer.service": "backend" }, "backend.shop"],
    [{ "peer.service": "backend.payments" }, "backend.payments"],
    [{ "peer.service": "backend.payments.svc.cluster.local" }, "backend.payments"],
    [{ "peer.service": "backend", "server.address": "other.shop.svc.cluster.local" }, "backend.shop"],
    [{ "server.address": "catalog" }, "catalog.shop"],
    [{ "server.address": "catalog:8080" }, "catalog.shop"],
    [{ "net.peer.name": "catalog.shop.svc" }, "catalog.shop"],
    [{ "url.full": "http://ratings:9080/ratings/7" }, "ratings.shop"],
    [{ "url.full": "https://api.example.com/v1" }, "api.example.com"],
    [{ "server.address": "10.0.0.7" }, "10.0.0.7"],
    [{ "network.peer.address": "fd00::7" }, "fd00::7"],
    [{ "server.address": "localhost" }, "localhost"],
    [{ "messaging.destination.name": "orders" }, "orders"],
    [{}, ""],
  ];
  assert.deepEqual(
    cases.map(([attributes]) => [attributes, peerServiceOf(attributes, "shop")]),
    cases,
  );
  assert.equal(peerServiceOf({ "peer.service": "backend" }, ""), "backend", "without the caller's namespace the name stays bare");
});

void test("instances: <pod>.<namespace> as the mesh names them, else service.instance.id, else the host", () => {
  assert.equal(instanceOf({ "k8s.pod.name": "backend-7d9f-x2", "k8s.namespace.name": "shop", "service.instance.id": "0f5c-uuid" }), "backend-7d9f-x2.shop");
  assert.equal(instanceOf({ "service.instance.id": "0f5c-uuid", "host.name": "node-1" }), "0f5c-uuid");
  assert.equal(instanceOf({ "host.name": "node-1" }), "node-1");
});

void test("HTTP endpoints: `:id`, `{id}`, `{itemId}`, `<int:id>` and 42 meet the grouped path a sidecar's log gets", () => {
  const grouper = new EndpointGrouper({ registry: new Registry() });
  const nameEndpoint = grouper.nameEndpoint.bind(grouper);
  // What the mesh resolver names the callee's endpoint from a sidecar's access log of GET /api/items/42.
  const mesh = grouper.nameEndpoint("backend.shop", "GET", "/api/items/42", "http");
  assert.equal(mesh, "GET:/api/items/{id}");
  const backend = { "service.name": "backend", "k8s.namespace.name": "shop" };
  const serverRoutes = ["/api/items/:id", "/api/items/{id}", "/api/items/{itemId}", "/api/items/<int:id>"].map((route) =>
    mapSpan(span("server", { "http.method": "GET", "http.route": route }, backend), nameEndpoint).endpoint,
  );
  assert.deepEqual(serverRoutes, [mesh, mesh, mesh, mesh]);
  const withPath = mapSpan(span("server", { "http.request.method": "GET", "http.route": "/api/items/:id", "url.path": "/api/items/42" }, backend), nameEndpoint);
  assert.equal(withPath.endpoint, mesh, "the path the request carried, grouped like the mesh's");
  const client = mapSpan(span("client", { "http.request.method": "GET", "peer.service": "backend", "url.full": "http://backend/api/items/7?x=1" }), nameEndpoint);
  assert.deepEqual([client.peerService, client.endpoint], ["backend.shop", mesh], "the client span names the callee's endpoint");
  assert.equal(grouper.stats().knownEndpoints, 1, "one endpoint, however it was written");
});

void test("a bare peer.service and the callee's own spans make one edge and one endpoint through the API", async () => {
  const harness = await startTraceHarness();
  try {
    const backend = { "service.name": "backend", "k8s.namespace.name": "shop", "k8s.pod.name": "backend-7d9f-x2", "service.instance.id": "0f5c-uuid" };
    const client = span("client", { "http.method": "GET", "peer.service": "backend", "http.status_code": "200" }, shop, { spanId: "c".repeat(16) });
    const server = span("server", { "http.method": "GET", "http.route": "/api/items/:id", "http.status_code": "200" }, backend, { spanId: "d".repeat(16), parentSpanId: "c".repeat(16) });
    assert.equal(harness.traces.spanIngest.ingest("otlp", [client]).outcome, "accepted");
    assert.equal(harness.traces.spanIngest.ingest("otlp", [server]).outcome, "accepted");
    await harness.flush();
    const topology = (await harness.api.inject({ url: "/api/v1/topology" })).json<{ edges: TopologyEdge[] }>();
    assert.deepEqual(
      topology.edges.map((edge) => [edge.source, edge.target, [...edge.detectPoints].sort()]),
      [["frontend.shop", "backend.shop", ["client", "server"]]],
    );
    const endpoints = (await harness.api.inject({ url: "/api/v1/services/backend.shop/endpoints" })).json<{ name: string }[]>();
    assert.deepEqual(endpoints.map((endpoint) => endpoint.name), ["GET:/api/items/{id}"]);
    const instances = (await harness.api.inject({ url: "/api/v1/services/backend.shop/instances" })).json<{ name: string }[]>();
    assert.deepEqual(instances.map((instance) => instance.name), ["backend-7d9f-x2.shop"]);
  } finally {
    await harness.stop();
  }
});
