/** Bad OTLP input: clear errors, counted rejects, partial success, no crash. Real gRPC client and sockets. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { otlpTypes } from "../../../../collector/receivers/otlp/otlp-protos.ts";
import { startTraceHarness, type TraceHarness } from "../../traces/harness.ts";
import { exportOverGrpc as exportTo, otlpRequestBytes as requestBytes, otlpSpan as span } from "./otlp-client.ts";

let harness: TraceHarness;
before(async () => {
  harness = await startTraceHarness({}, { spanRequests: { maxSpans: 50_000 } });
});
after(async () => {
  await harness.stop();
});

const exportOverGrpc = (bytes: Uint8Array) => exportTo(harness.ports.otlpGrpc, bytes);
const otlpHttp = (body: Uint8Array | string, contentType: string) =>
  fetch(`http://127.0.0.1:${harness.ports.otlpHttp}/v1/traces`, { method: "POST", headers: { "content-type": contentType }, body });

void test("malformed protobuf is INVALID_ARGUMENT over gRPC and 400 with a Status over HTTP, counted", async () => {
  const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
  const grpc = await exportOverGrpc(garbage);
  assert.equal(grpc.error?.code, 3);
  assert.match(grpc.error?.details ?? "", /malformed ExportTraceServiceRequest/);
  const http = await otlpHttp(garbage, "application/x-protobuf");
  assert.equal(http.status, 400);
  assert.equal(http.headers.get("content-type"), "application/x-protobuf");
  const json = await otlpHttp("{not json", "application/json");
  assert.equal(json.status, 400);
  assert.match(((await json.json()) as { message: string }).message, /not valid JSON/);
  assert.equal(await harness.telemetry.rejected("otlp", "malformed-request"), 3);
});

void test("a wrong content type is 415 and counted", async () => {
  const response = await otlpHttp("hello", "text/plain");
  assert.equal(response.status, 415);
  assert.equal(await harness.telemetry.rejected("otlp", "unsupported-content-type"), 1);
});

void test("spans without ids are rejected one by one: partial success names how many", async () => {
  const bytes = requestBytes([span(1), span(2, { traceId: Buffer.alloc(0) }), span(3, { spanId: Buffer.alloc(8) })]);
  const grpc = await exportOverGrpc(bytes);
  assert.equal(grpc.error, null);
  const decoded = otlpTypes().response.decode(grpc.response ?? Buffer.alloc(0)).toJSON() as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } };
  assert.equal(decoded.partialSuccess?.rejectedSpans, "2");
  assert.match(decoded.partialSuccess?.errorMessage ?? "", /missing-trace-id/);
  const json = await otlpHttp(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: "x", spanId: "0102030405060708", startTimeUnixNano: "1", endTimeUnixNano: "2" }] }] }] }), "application/json");
  assert.equal(json.status, 200);
  assert.deepEqual(((await json.json()) as { partialSuccess: { rejectedSpans: string } }).partialSuccess.rejectedSpans, "1");
  assert.equal(await harness.telemetry.rejected("otlp", "missing-trace-id"), 2);
  assert.equal(await harness.telemetry.rejected("otlp", "missing-span-id"), 1);
});

void test("a 100k-span request is refused whole with a clear message; the receiver keeps serving", async () => {
  const spans = Array.from({ length: 100_000 }, (_unused, index) => span(index));
  const grpc = await exportOverGrpc(requestBytes(spans));
  assert.equal(grpc.error?.code, 3);
  assert.match(grpc.error?.details ?? "", /more than 50000 spans; split it/);
  const after = await exportOverGrpc(requestBytes([span(7)]));
  assert.equal(after.error, null);
});
