/**
 * Spans per CPU-second end to end: OTLP/gRPC requests from a real client (in this process) through decode,
 * mapping, span metrics and tail sampling into in-memory DuckDB. Prints figures, asserts nothing.
 *
 * Traffic: traces of 4 spans (a SERVER root, a CLIENT call to another service, that service's SERVER span
 * and an INTERNAL span), 1 % of traces with an error, W3C-like random trace ids that are new in every
 * request (requests are encoded once, then only their trace ids are rewritten, so the client stays cheap).
 * Run: npx tsx bench/spans.ts [totalSpans] [sampleRate, default 0.1; 1 keeps and stores every trace]
 */
import { randomBytes } from "node:crypto";
import { credentials, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { EXPORT_METHOD_PATH, otlpTypes } from "../collector/receivers/otlp/otlp-protos.ts";
import { startTraceHarness } from "../test/collector/traces/harness.ts";

const TOTAL = Number(process.argv[2] ?? 200_000);
const SAMPLE_RATE = Number(process.argv[3] ?? 0.1);
const PER_REQUEST = 1000;
const SPANS_PER_TRACE = 4;
const TEMPLATES = 10;
/** The first 4 bytes of every trace id: marks where a request's number is written before each send. */
const TRACE_ID_MARK = Buffer.from([0x6d, 0x73, 0x68, 0x74]);
const TRACE_ID_TAG = Buffer.from([0x0a, 0x10]);

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: value } });

function traceSpans(trace: number, template: number, nowNs: bigint) {
  // Bytes 4..8 are rewritten per request; the random tail is what tail sampling's share reads.
  const traceId = Buffer.concat([TRACE_ID_MARK, Buffer.alloc(4), randomBytes(8)]);
  const spanId = (index: number) => Buffer.from(`${template.toString(16).padStart(4, "0")}${trace.toString(16).padStart(8, "0")}${index.toString(16).padStart(4, "0")}`, "hex");
  const isError = trace % 100 === 0;
  const item = trace % 50;
  const at = (offsetMs: number) => String(nowNs + BigInt(offsetMs) * 1_000_000n);
  const base = { traceId, startTimeUnixNano: at(0) };
  return {
    frontend: [
      { ...base, spanId: spanId(1), name: "GET /products/{id}", kind: 2, endTimeUnixNano: at(12), attributes: [str("http.request.method", "GET"), str("http.route", "/products/{id}"), str("url.path", `/products/${item}`), int("http.response.status_code", isError ? 500 : 200)], status: isError ? { code: 2, message: "catalog failed" } : {} },
      { ...base, spanId: spanId(2), parentSpanId: spanId(1), name: "GET", kind: 3, endTimeUnixNano: at(10), attributes: [str("http.request.method", "GET"), str("server.address", "catalog.shop.svc.cluster.local"), str("url.full", `http://catalog.shop.svc.cluster.local/items/${item}`), int("http.response.status_code", isError ? 503 : 200)] },
    ],
    catalog: [
      { ...base, spanId: spanId(3), parentSpanId: spanId(2), name: "GET /items/{id}", kind: 2, endTimeUnixNano: at(9), attributes: [str("http.request.method", "GET"), str("url.path", `/items/${item}`), int("http.response.status_code", isError ? 503 : 200)] },
      { ...base, spanId: spanId(4), parentSpanId: spanId(3), name: "SELECT items", kind: 1, endTimeUnixNano: at(8), attributes: [str("db.system", "postgresql"), str("db.statement", "SELECT * FROM items WHERE id = $1")] },
    ],
  };
}

function resource(service: string, pod: string) {
  return { attributes: [str("service.name", service), str("k8s.namespace.name", "shop"), str("k8s.pod.name", pod), str("telemetry.sdk.language", "nodejs")] };
}

interface RequestTemplate {
  bytes: Buffer;
  /** Where each trace id's 4 request-number bytes are. */
  idOffsets: number[];
}

function template(index: number): RequestTemplate {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const traces = Array.from({ length: PER_REQUEST / SPANS_PER_TRACE }, (_unused, trace) => traceSpans(trace, index, nowNs));
  const body = {
    resourceSpans: [
      { resource: resource("frontend", `frontend-${index}`), scopeSpans: [{ scope: { name: "@opentelemetry/instrumentation-http" }, spans: traces.flatMap((trace) => trace.frontend) }] },
      { resource: resource("catalog", `catalog-${index}`), scopeSpans: [{ scope: { name: "@opentelemetry/instrumentation-http" }, spans: traces.flatMap((trace) => trace.catalog) }] },
    ],
  };
  const { request } = otlpTypes();
  const bytes = Buffer.from(request.encode(request.fromObject(body)).finish());
  const marker = Buffer.concat([TRACE_ID_TAG, TRACE_ID_MARK]);
  const idOffsets: number[] = [];
  for (let at = bytes.indexOf(marker); at !== -1; at = bytes.indexOf(marker, at + 1)) idOffsets.push(at + marker.length);
  if (idOffsets.length !== PER_REQUEST) throw new Error(`found ${idOffsets.length} trace ids in a template, expected ${PER_REQUEST}`);
  return { bytes, idOffsets };
}

const harness = await startTraceHarness({ sampleRate: SAMPLE_RATE }, { spanRequests: { maxSpans: PER_REQUEST } });
const Client = makeGenericClientConstructor({}, "TraceService");
const client = new Client(`127.0.0.1:${harness.ports.otlpGrpc}`, credentials.createInsecure());
const templates = Array.from({ length: TEMPLATES }, (_unused, index) => template(index));
const send = (bytes: Buffer) =>
  new Promise<void>((resolve, reject) =>
    client.makeUnaryRequest(EXPORT_METHOD_PATH, (value: Buffer) => value, (value: Buffer) => value, bytes, (error: ServiceError | null) => (error ? reject(error) : resolve())),
  );
let maxRss = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let sent = 0, i = 0; sent < TOTAL; sent += PER_REQUEST, i++) {
  const { bytes, idOffsets } = templates[i % TEMPLATES] as RequestTemplate;
  for (const offset of idOffsets) bytes.writeUInt32BE(i, offset);
  await send(bytes);
  if (i % 20 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
}
await harness.flush();
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const decisions = await harness.telemetry.registry.getSingleMetric("meshsight_trace_sampling_decisions_total")?.get();
const kept = (decisions?.values ?? []).filter((value) => value.labels.decision !== "dropped").reduce((sum, value) => sum + value.value, 0);
console.log(`spans: ${TOTAL}, sample rate ${SAMPLE_RATE}, wall ${((performance.now() - wallBefore) / 1000).toFixed(2)} s, CPU ${cpuSeconds.toFixed(2)} s (client included)`);
console.log(`spans per CPU-second: ${Math.round(TOTAL / cpuSeconds)}; traces kept: ${kept} of ${TOTAL / SPANS_PER_TRACE}; max RSS ${(Math.max(maxRss, process.memoryUsage().rss) / 1048576).toFixed(0)} MiB`);
client.close();
await harness.stop();
