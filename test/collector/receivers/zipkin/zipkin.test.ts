/**
 * Zipkin v2 JSON as Brave (Zipkin's own Java instrumentation) reports it: a client span and the shared
 * server half of the same call, then read back through the Zipkin query API Grafana uses, on both storage
 * adapters (embedded DuckDB and a real ClickHouse 18.16).
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { test } from "node:test";
import type { ZipkinSpan } from "../../../../collector/receivers/zipkin/zipkin-span.ts";
import { type TraceHarness, withClickHouseTraceHarness, withTraceHarness } from "../../traces/harness.ts";

const nowUs = Date.now() * 1000;
/** Brave's JSON: 16-digit trace id, lower-case kinds, shared server span with the client's id. */
const braveSpans: ZipkinSpan[] = [
  {
    traceId: "86154a4ba6e91385",
    id: "86154a4ba6e91385",
    kind: "SERVER",
    name: "get /",
    timestamp: nowUs,
    duration: 30_000,
    localEndpoint: { serviceName: "frontend", ipv4: "10.0.0.1" },
    remoteEndpoint: { ipv4: "10.0.0.100", port: 53_000 },
    tags: { "http.method": "GET", "http.path": "/" },
  },
  {
    traceId: "86154a4ba6e91385",
    parentId: "86154a4ba6e91385",
    id: "4d1e00c0db9010db",
    kind: "CLIENT",
    name: "get",
    timestamp: nowUs + 1000,
    duration: 20_000,
    localEndpoint: { serviceName: "frontend", ipv4: "10.0.0.1" },
    remoteEndpoint: { serviceName: "backend", ipv4: "10.0.0.2", port: 9000 },
    tags: { "http.method": "GET", "http.path": "/api/users/123", "http.status_code": "500", error: "500" },
    annotations: [{ timestamp: nowUs + 1500, value: "wire send" }],
  },
  {
    traceId: "86154a4ba6e91385",
    parentId: "86154a4ba6e91385",
    id: "4d1e00c0db9010db",
    kind: "SERVER",
    shared: true,
    name: "get /api/users/{id}",
    timestamp: nowUs + 2000,
    duration: 15_000,
    localEndpoint: { serviceName: "backend", ipv4: "10.0.0.2" },
    tags: { "http.method": "GET", "http.path": "/api/users/123", "http.route": "/api/users/{id}", "http.status_code": "500", error: "500" },
  },
];

const BRAVE_SCENARIO = "Brave's Zipkin v2 JSON is accepted and read back through the Zipkin query API as posted";
void test(`${BRAVE_SCENARIO} (DuckDB)`, () => withTraceHarness(undefined, braveSpansReadBackAsPosted));
void test(`${BRAVE_SCENARIO} (ClickHouse)`, () => withClickHouseTraceHarness(braveSpansReadBackAsPosted));

async function braveSpansReadBackAsPosted(harness: TraceHarness): Promise<void> {
  const base = `http://127.0.0.1:${harness.ports.zipkin}`;
  const posted = await fetch(`${base}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gzipSync(JSON.stringify(braveSpans)) });
  assert.equal(posted.status, 202);
  await harness.flush();

  assert.deepEqual(await (await fetch(`${base}/api/v2/services`)).json(), ["backend", "frontend"]);
  assert.deepEqual(await (await fetch(`${base}/api/v2/spans?serviceName=frontend`)).json(), ["get", "get /"]);
  assert.deepEqual(await (await fetch(`${base}/api/v2/remoteServices?serviceName=frontend`)).json(), ["backend"]);

  const traces = (await (await fetch(`${base}/api/v2/traces?serviceName=backend&annotationQuery=error&limit=5`)).json()) as ZipkinSpan[][];
  assert.equal(traces.length, 1);
  assert.equal(traces[0]?.length, 3);
  const none = (await (await fetch(`${base}/api/v2/traces?serviceName=backend&minDuration=60000000`)).json()) as ZipkinSpan[][];
  assert.equal(none.length, 0, "minDuration is in microseconds: nothing lasted a minute");

  const spans = (await (await fetch(`${base}/api/v2/trace/86154a4ba6e91385`)).json()) as ZipkinSpan[];
  const byKey = new Map(spans.map((span) => [`${span.localEndpoint?.serviceName} ${span.kind}`, span]));
  const shared = byKey.get("backend SERVER");
  assert.equal(shared?.id, "4d1e00c0db9010db", "the shared server half keeps the client's id");
  assert.equal(shared?.parentId, "86154a4ba6e91385");
  assert.equal(shared?.shared, true);
  assert.equal(shared?.tags?.["http.route"], "/api/users/{id}");
  const client = byKey.get("frontend CLIENT");
  assert.equal(client?.remoteEndpoint?.serviceName, "backend");
  assert.equal(client?.duration, 20_000);
  assert.equal(client?.timestamp, nowUs + 1000);
  assert.deepEqual(client?.annotations, [{ timestamp: nowUs + 1500, value: "wire send" }]);
  assert.equal(client?.tags?.error, "500");

  const missing = await fetch(`${base}/api/v2/trace/00000000000000aa`);
  assert.equal(missing.status, 404);
  // The v1 API finds the same trace under the 32-digit form of the id, with mesh dimensions.
  const v1 = await harness.api.inject({ url: "/api/v1/traces/000000000000000086154a4ba6e91385" });
  const backendServer = v1.json<{ spans: { service: string; kind: string; endpoint: string }[] }>().spans.find((span) => span.service === "backend" && span.kind === "server");
  assert.equal(backendServer?.endpoint, "GET:/api/users/{id}");
}

void test("bad Zipkin requests get clear errors and counted rejects, and the receiver keeps serving", () => withTraceHarness(undefined, badRequestsAreRefusedAndCounted));

async function badRequestsAreRefusedAndCounted(harness: TraceHarness): Promise<void> {
  const base = `http://127.0.0.1:${harness.ports.zipkin}`;
  const notJson = await fetch(`${base}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: "[{" });
  assert.equal(notJson.status, 400);
  assert.match(await notJson.text(), /not valid JSON/);
  const wrongType = await fetch(`${base}/api/v2/spans`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
  assert.equal(wrongType.status, 415);
  const badProto = await fetch(`${base}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: Buffer.from([0x0a, 0xff, 0xff, 0x01]) });
  assert.equal(badProto.status, 400);
  const missingIds = await fetch(`${base}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ name: "no ids", timestamp: nowUs, duration: 1 }]) });
  assert.equal(missingIds.status, 202);
  assert.equal(missingIds.headers.get("x-meshsight-rejected-spans"), "1");
  assert.equal(await harness.telemetry.rejected("zipkin", "malformed-request"), 2);
  assert.equal(await harness.telemetry.rejected("zipkin", "unsupported-content-type"), 1);
  assert.equal(await harness.telemetry.rejected("zipkin", "missing-trace-id"), 1);
  assert.equal((await fetch(`${base}/api/v2/services`)).status, 200);
}
