/**
 * Grafana's Zipkin and Jaeger data sources, pointed where dashboards/provisioning points them, read traces
 * from a real read API over a real socket, on both storage adapters: every request those data sources make
 * (Grafana's pkg/tsdb/zipkin and pkg/tsdb/jaeger clients: health check, services, span names or
 * operations, search, trace by id, dependency graph) answers in the shapes Zipkin's
 * (https://zipkin.io/zipkin-api/zipkin2-api.yaml) and Jaeger's query services
 * (https://github.com/jaegertracing/jaeger/blob/v2.20.0/internal/uimodel/model.go) document.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { JaegerKeyValue, JaegerTrace } from "../../collector/query/trace-jaeger-format.ts";
import type { ZipkinSpan } from "../../collector/receivers/zipkin/zipkin-span.ts";
import type { SpanInput } from "../../collector/span-input.ts";
import { httpSection } from "../../core/config/sections/http.ts";
import { type TraceHarness, withClickHouseTraceHarness, withTraceHarness } from "../collector/traces/harness.ts";

const provisioning = join(dirname(fileURLToPath(import.meta.url)), "../../dashboards/provisioning/datasources/meshsight.yaml");
const TRACE_ID = "4bf92f3577b34da6";
const STORED_TRACE_ID = TRACE_ID.padStart(32, "0");
const ROOT = "00f067aa0ba902b7";
const CLIENT = "1111111111111111";
const SERVER = "2222222222222222";
/** Whole milliseconds, a minute back, so the span metrics land in a closed minute of the dependency window. */
const startMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const startUs = startMs * 1000;
const frontend = { "service.name": "frontend", "k8s.namespace.name": "shop" };
const backend = { "service.name": "backend", "k8s.namespace.name": "shop", "host.name": "node-1" };

/** A span of the test trace: `at` and `ms` are its start after the trace's and its duration, in milliseconds. */
function span(at: number, ms: number, fields: Pick<SpanInput, "spanId" | "parentSpanId" | "name" | "kind" | "resourceAttributes" | "attributes"> & Partial<SpanInput>): SpanInput {
  return { traceId: STORED_TRACE_ID, startTimeUnixNano: BigInt(startMs + at) * 1_000_000n, durationNs: ms * 1_000_000, hasErrorStatus: false, statusMessage: "", ...fields };
}

const rootSpan = span(0, 30, { spanId: ROOT, parentSpanId: "", name: "GET /", kind: "server", resourceAttributes: frontend, attributes: { "http.method": "GET", "http.route": "/", "http.status_code": "200" } });
const clientAttributes = { "http.method": "GET", "peer.service": "backend.shop", "http.status_code": "503" };
const clientSpan = span(2, 20, { spanId: CLIENT, parentSpanId: ROOT, name: "GET", kind: "client", hasErrorStatus: true, resourceAttributes: frontend, attributes: clientAttributes });
const annotations = JSON.stringify([{ timestamp: startUs + 4500, value: "cache miss" }]);
const serverAttributes = { "http.method": "GET", "http.route": "/api/items/{id}", "http.status_code": "503", "zipkin.annotations": annotations };
const serverSpan = span(4, 15, { spanId: SERVER, parentSpanId: CLIENT, name: "GET /api/items/{id}", kind: "server", hasErrorStatus: true, statusMessage: "no backend", resourceAttributes: backend, attributes: serverAttributes });

const text = (key: string, value: string): JaegerKeyValue => ({ key, type: "string", value });
const byKey = (tags: readonly JaegerKeyValue[]): JaegerKeyValue[] => [...tags].sort((a, b) => a.key.localeCompare(b.key));

/** The posted trace as Jaeger's query service would answer it (tags compared as sets: storage keeps no order). */
const expectedJaegerTrace: JaegerTrace = {
  traceID: TRACE_ID,
  processes: {
    p1: { serviceName: "frontend.shop", tags: [text("k8s.namespace.name", "shop")] },
    p2: { serviceName: "backend.shop", tags: [text("k8s.namespace.name", "shop"), text("host.name", "node-1")] },
  },
  warnings: null,
  spans: [
    {
      traceID: TRACE_ID,
      spanID: ROOT,
      operationName: "GET /",
      references: [],
      startTime: startUs,
      duration: 30_000,
      tags: byKey([text("http.method", "GET"), text("http.route", "/"), text("http.status_code", "200"), text("span.kind", "server")]),
      logs: [],
      processID: "p1",
      warnings: null,
    },
    {
      traceID: TRACE_ID,
      spanID: CLIENT,
      operationName: "GET",
      references: [{ refType: "CHILD_OF", traceID: TRACE_ID, spanID: ROOT }],
      startTime: startUs + 2000,
      duration: 20_000,
      tags: byKey([
        text("http.method", "GET"),
        text("peer.service", "backend.shop"),
        text("http.status_code", "503"),
        text("span.kind", "client"),
        text("otel.status_code", "ERROR"),
        { key: "error", type: "bool", value: true },
      ]),
      logs: [],
      processID: "p1",
      warnings: null,
    },
    {
      traceID: TRACE_ID,
      spanID: SERVER,
      operationName: "GET /api/items/{id}",
      references: [{ refType: "CHILD_OF", traceID: TRACE_ID, spanID: CLIENT }],
      startTime: startUs + 4000,
      duration: 15_000,
      tags: byKey([
        text("http.method", "GET"),
        text("http.route", "/api/items/{id}"),
        text("http.status_code", "503"),
        text("span.kind", "server"),
        text("otel.status_code", "ERROR"),
        text("otel.status_description", "no backend"),
        { key: "error", type: "bool", value: true },
      ]),
      logs: [{ timestamp: startUs + 4500, fields: [text("event", "cache miss")] }],
      processID: "p2",
      warnings: null,
    },
  ],
};

function normalized(trace: JaegerTrace): JaegerTrace {
  return {
    ...trace,
    spans: trace.spans.map((each) => ({ ...each, tags: byKey(each.tags) })),
    processes: Object.fromEntries(Object.entries(trace.processes).map(([id, process]) => [id, { ...process, tags: byKey(process.tags) }])),
  };
}

const expectedTrace = normalized(expectedJaegerTrace);

/** The provisioned data source of this type, as a base URL on the test's API (same path, local address). */
function provisionedBase(type: "zipkin" | "jaeger", apiPort: number): string {
  const { datasources } = parse(readFileSync(provisioning, "utf8")) as { datasources: { type: string; url?: string; access?: string }[] };
  const matching = datasources.filter((source) => source.type === type);
  assert.equal(matching.length, 1, `one ${type} data source is provisioned`);
  const url = new URL(matching[0]?.url ?? "");
  // The API port (not the Zipkin port 9411 or Jaeger's 16686) of the meshsight service.
  assert.equal(url.port, String(httpSection.schema.parse({}).port), `${type} points at the HTTP API port`);
  assert.equal(url.hostname, "meshsight");
  return `http://127.0.0.1:${apiPort}${url.pathname.replace(/\/$/, "")}`;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = await response.text();
  assert.equal(response.status, 200, `${url}: ${body}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return JSON.parse(body) as T;
}

async function ingestTrace(harness: TraceHarness): Promise<void> {
  // The caller's spans first, as they arrive when the callee's span ends later.
  assert.equal(harness.traces.spanIngest.ingest("otlp", [rootSpan, clientSpan]).outcome, "accepted");
  assert.equal(harness.traces.spanIngest.ingest("zipkin", [serverSpan]).outcome, "accepted");
  await harness.flush();
}

async function zipkinDataSource(base: string): Promise<void> {
  // Grafana's health check and service list, then span names, search and trace by id.
  assert.deepEqual(await getJson(`${base}/api/v2/services`), ["backend.shop", "frontend.shop"]);
  assert.deepEqual(await getJson(`${base}/api/v2/spans?serviceName=backend.shop`), ["GET /api/items/{id}"]);
  const traces = await getJson<ZipkinSpan[][]>(`${base}/api/v2/traces?serviceName=backend.shop&spanName=${encodeURIComponent("GET /api/items/{id}")}`);
  assert.deepEqual(traces.map((trace) => trace.map((each) => each.id)), [[ROOT, CLIENT, SERVER]]);
  const trace = await getJson<ZipkinSpan[]>(`${base}/api/v2/trace/${TRACE_ID}`);
  assert.deepEqual(trace.map((each) => [each.id, each.parentId ?? "", each.localEndpoint?.serviceName, each.kind]), [
    [ROOT, "", "frontend.shop", "SERVER"],
    [CLIENT, ROOT, "frontend.shop", "CLIENT"],
    [SERVER, CLIENT, "backend.shop", "SERVER"],
  ]);
  const endTs = Date.now();
  assert.deepEqual(await getJson(`${base}/api/v2/dependencies?endTs=${endTs}&lookback=900000`), [{ parent: "frontend.shop", child: "backend.shop", callCount: 1, errorCount: 1 }]);
  assert.deepEqual(await getJson(`${base}/api/v2/dependencies?endTs=${startMs - 120_000}&lookback=60000`), [], "nothing before the calls");
  const missing = await fetch(`${base}/api/v2/dependencies?lookback=60000`);
  assert.equal(missing.status, 400);
  assert.equal(await missing.text(), "endTs is required");
}

interface JaegerEnvelope<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: { code?: number; msg: string; traceID?: string }[] | null;
}

async function jaegerError(url: string, status: number, msg: string): Promise<void> {
  const response = await fetch(url);
  assert.equal(response.status, status, url);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await response.text(), `${JSON.stringify({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] })}\n`);
}

async function jaegerDataSource(base: string): Promise<void> {
  assert.deepEqual(await getJson(`${base}/api/services`), { data: ["backend.shop", "frontend.shop"], total: 2, limit: 0, offset: 0, errors: null });
  assert.deepEqual(await getJson(`${base}/api/services/backend.shop/operations`), { data: ["GET /api/items/{id}"], total: 1, limit: 0, offset: 0, errors: null });

  // Grafana's search: tags as JSON, Go durations, start/end in microseconds.
  const window = `start=${startUs - 60_000_000}&end=${Date.now() * 1000}`;
  const search = (extra: string): string =>
    `${base}/api/traces?service=backend.shop&operation=${encodeURIComponent("GET /api/items/{id}")}&${window}&${extra}`;
  const found = await getJson<JaegerEnvelope<JaegerTrace[]>>(search(`limit=20&tags=${encodeURIComponent('{"http.status_code":"503"}')}&minDuration=10ms&maxDuration=1.5s`));
  assert.deepEqual({ ...found, data: found.data.map(normalized) }, { data: [expectedTrace], total: 0, limit: 0, offset: 0, errors: null });
  assert.deepEqual((await getJson<JaegerEnvelope<JaegerTrace[]>>(search("minDuration=16ms"))).data, [], "the backend span is 15 ms");
  assert.deepEqual((await getJson<JaegerEnvelope<JaegerTrace[]>>(search("limit=5000"))).data.length, 1, "a limit above 1000 is taken as 1000");
  assert.deepEqual((await getJson<JaegerEnvelope<JaegerTrace[]>>(search(`tags=${encodeURIComponent('{"http.status_code":"200"}')}`))).data, []);
  const errors = await getJson<JaegerEnvelope<JaegerTrace[]>>(`${base}/api/traces?service=frontend.shop&tags=${encodeURIComponent('{"error":"true"}')}&${window}`);
  assert.deepEqual(errors.data.map((trace) => trace.traceID), [TRACE_ID], "error=true selects failed traces");
  assert.deepEqual((await getJson<JaegerEnvelope<JaegerTrace[]>>(`${base}/api/traces?service=backend.shop&start=${startUs - 60_000_000}&end=${startUs - 1_000_000}`)).data, []);

  // Trace by id, with the millisecond start/end Grafana adds when traceIdTimeParams is on.
  const byId = await getJson<JaegerEnvelope<JaegerTrace[]>>(`${base}/api/traces/${TRACE_ID}?start=${startMs - 1000}&end=${startMs + 1000}`);
  assert.deepEqual(byId.data.map(normalized), [expectedTrace]);
  assert.deepEqual((await getJson<JaegerEnvelope<JaegerTrace[]>>(`${base}/api/traces/${STORED_TRACE_ID}`)).data.map(normalized), [expectedTrace], "32 digits too");
  const byParam = await getJson<JaegerEnvelope<JaegerTrace[]>>(`${base}/api/traces?traceID=${TRACE_ID}`);
  assert.deepEqual(byParam.data.map((trace) => trace.traceID), [TRACE_ID]);
  assert.deepEqual(await getJson(`${base}/api/traces?traceID=abc`), { data: [], total: 0, limit: 0, offset: 0, errors: [{ msg: "trace not found", traceID: "0000000000000abc" }] });

  // Dependency graph: endTs and lookback in milliseconds; Jaeger's links have no error count.
  const endTs = Date.now();
  assert.deepEqual(await getJson(`${base}/api/dependencies?endTs=${endTs}&lookback=900000`), { data: [{ parent: "frontend.shop", child: "backend.shop", callCount: 1 }], total: 0, limit: 0, offset: 0, errors: null });
  assert.deepEqual((await getJson<JaegerEnvelope<unknown[]>>(`${base}/api/dependencies?endTs=${endTs}&lookback=900000&service=other.shop`)).data, []);

  // Errors as Jaeger's http.Error sends them.
  await jaegerError(`${base}/api/traces/0000000000000aaa`, 404, "trace not found");
  await jaegerError(`${base}/api/traces?operation=GET`, 400, "parameter 'service' is required");
  await jaegerError(`${base}/api/traces?service=backend.shop&minDuration=abc`, 400, `unable to parse param 'minDuration': time: invalid duration "abc"`);
  await jaegerError(`${base}/api/traces?service=backend.shop&minDuration=2s&maxDuration=1s`, 400, "'maxDuration' should be greater than 'minDuration'");
  await jaegerError(`${base}/api/traces?service=backend.shop&tags=not-json`, 400, `malformed 'tags' parameter, cannot unmarshal JSON: Unexpected token 'o', "not-json" is not valid JSON`);
  await jaegerError(`${base}/api/traces/${TRACE_ID}?start=today`, 400, `unable to parse param 'start': strconv.ParseInt: parsing "today": invalid syntax`);
  await jaegerError(`${base}/api/traces/xyz`, 400, "TraceID cannot be longer than 32 hex characters or contain other characters: xyz");
  await jaegerError(`${base}/api/dependencies?endTs=yesterday`, 400, `unable to parse param 'endTs': strconv.ParseInt: parsing "yesterday": invalid syntax`);
  await jaegerError(`${base}/api/traces?service=a&service=b`, 400, "invalid parameter service: is given 2 times; give it once");
}

async function dataSourcesRead(harness: TraceHarness): Promise<void> {
  await ingestTrace(harness);
  await harness.api.listen({ host: "127.0.0.1", port: 0 });
  const apiPort = (harness.api.server.address() as AddressInfo).port;
  await zipkinDataSource(provisionedBase("zipkin", apiPort));
  await jaegerDataSource(provisionedBase("jaeger", apiPort));
  // The Zipkin port keeps its query API, as a Zipkin server has it.
  assert.deepEqual(await getJson(`http://127.0.0.1:${harness.ports.zipkin}/api/v2/dependencies?endTs=${Date.now()}`), [{ parent: "frontend.shop", child: "backend.shop", callCount: 1, errorCount: 1 }]);
}

const SCENARIO = "the provisioned Zipkin and Jaeger data sources read traces and dependencies at the HTTP API port";
void test(`${SCENARIO} (DuckDB)`, () => withTraceHarness(undefined, dataSourcesRead));
void test(`${SCENARIO} (ClickHouse)`, () => withClickHouseTraceHarness(dataSourcesRead));
