/**
 * When trace storage falls behind, kept spans waiting for it are bounded: receivers refuse new spans with
 * their protocol's retryable answer (OTLP/gRPC RESOURCE_EXHAUSTED + RetryInfo, OTLP/HTTP and Zipkin 503 +
 * Retry-After), every refusal is a counted reject, and kept spans past twice the bound are dropped and
 * counted. Storage here is the real in-memory DuckDB; its writes are held back until the test lets them go.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { Span } from "../../../core/model/span.ts";
import { exportOverGrpc, otlpRequestBytes, otlpSpan } from "../receivers/otlp/otlp-client.ts";
import { startTraceHarness } from "./harness.ts";

const BOUND = 10;

void test("storage that falls behind turns into backpressure on every receiver, bounded and counted", async () => {
  let releaseWrites = (): void => undefined;
  const writesHeld = new Promise<void>((resolve) => (releaseWrites = resolve));
  const harness = await startTraceHarness(
    // Half the decision buffer may wait for storage.
    { maxBufferedSpans: 2 * BOUND, sampleRate: 1 },
    { wrapSpanWriter: (writer) => ({ writeSpans: async (spans: readonly Span[]) => writesHeld.then(() => writer.writeSpans(spans)) }) },
  );
  try {
    const { telemetry, ports } = harness;
    const first = await exportOverGrpc(ports.otlpGrpc, otlpRequestBytes(Array.from({ length: 25 }, (_unused, index) => otlpSpan(index))));
    assert.equal(first.error, null, "storage is not behind yet");

    // 25 kept spans go to a store that does not answer (15 decided early at the buffer bound, then the rest):
    // twice the bound (20) wait, the other 5 are dropped.
    harness.traces.sampler.decideDue(true);
    assert.equal(await telemetry.rejected("traces", "storage-backlog"), 5);
    assert.equal(await gaugeValue(harness, "meshsight_trace_spans_awaiting_storage"), 2 * BOUND);
    assert.equal(harness.traces.sampler.isOverloaded(), true);

    const grpc = await exportOverGrpc(ports.otlpGrpc, otlpRequestBytes([otlpSpan(100), otlpSpan(101), otlpSpan(102)]));
    assert.equal(grpc.error?.code, status.RESOURCE_EXHAUSTED);
    assert.match(grpc.error?.details ?? "", /trace storage is behind; retry later/);
    const statusDetails = grpc.error?.metadata.get("grpc-status-details-bin")[0];
    assert.ok(Buffer.isBuffer(statusDetails) && statusDetails.includes("type.googleapis.com/google.rpc.RetryInfo"), "RetryInfo tells OTLP exporters to retry");
    assert.equal(await telemetry.rejected("otlp", "overloaded"), 3);

    const http = await fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/traces`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: otlpRequestBytes([otlpSpan(103)]) });
    assert.equal(http.status, 503);
    assert.equal(http.headers.get("retry-after"), "1");
    assert.equal(await telemetry.rejected("otlp", "overloaded"), 4);

    const zipkinSpan = { traceId: "a".repeat(32), id: "b".repeat(16), name: "get", timestamp: Date.now() * 1000, duration: 10, localEndpoint: { serviceName: "web" } };
    const zipkin = await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([zipkinSpan]) });
    assert.equal(zipkin.status, 503);
    assert.match(await zipkin.text(), /trace storage is behind/);
    assert.equal(await telemetry.rejected("zipkin", "overloaded"), 1);

    // Storage catches up: the waiting spans are written and the receivers take spans again.
    releaseWrites();
    await harness.flush();
    assert.equal(harness.traces.sampler.isOverloaded(), false);
    assert.equal(await gaugeValue(harness, "meshsight_trace_spans_awaiting_storage"), 0);
    const stored = await harness.storage.searchTraces({ fromMs: 0, toMs: Date.now() + 60_000, limit: 100 });
    assert.equal(stored.length, 2 * BOUND);
    const after = await exportOverGrpc(ports.otlpGrpc, otlpRequestBytes([otlpSpan(200)]));
    assert.equal(after.error, null);
  } finally {
    releaseWrites();
    await harness.stop();
  }
});

async function gaugeValue(harness: Awaited<ReturnType<typeof startTraceHarness>>, name: string): Promise<number | undefined> {
  const metric = await harness.telemetry.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}
