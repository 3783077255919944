/** The double-counting rule (docs/traces.md): spans of services a mesh sidecar measures do not feed metrics in "non-mesh" mode. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SpanInput } from "../../../collector/span-input.ts";
import { startTraceHarness } from "./harness.ts";

const MINUTE = 60_000;

function serverSpan(service: string, index: number, attributes: Record<string, string> = {}): SpanInput {
  return {
    traceId: (index + 1).toString(16).padStart(32, "a"),
    spanId: (index + 1).toString(16).padStart(16, "b"),
    parentSpanId: "",
    name: "GET /items",
    kind: "server",
    startTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    durationNs: 3_000_000,
    hasErrorStatus: false,
    statusMessage: "",
    attributes: { "http.method": "GET", "http.route": "/items", "http.status_code": index === 0 ? "503" : "200", ...attributes },
    resourceAttributes: { "service.name": service, "k8s.namespace.name": "default" },
  };
}

async function serviceCalls(mode: "all" | "non-mesh" | "off") {
  const harness = await startTraceHarness({ spanMetrics: mode });
  try {
    harness.meshServices.note("meshed.default", Date.now());
    const spans = [0, 1, 2].flatMap((index) => [serverSpan("meshed", index), serverSpan("plain", index + 10)]);
    assert.equal(harness.traces.spanIngest.ingest("otlp", spans).outcome, "accepted");
    await harness.flush();
    const nowMs = Date.now();
    const rows = await harness.storage.queryMetrics({ scope: "service", fromMs: nowMs - 2 * MINUTE, toMs: nowMs + MINUTE, resolution: "minute", groupByTime: false });
    return Object.fromEntries(rows.map((row) => [row.service, `${row.calls} calls ${row.errors} errors`]));
  } finally {
    await harness.stop();
  }
}

void test("non-mesh: spans feed metrics only for services no sidecar measures; errors come from HTTP status", async () => {
  assert.deepEqual(await serviceCalls("non-mesh"), { "plain.default": "3 calls 0 errors" });
});

void test("all: every server span counts; off: none do", async () => {
  assert.deepEqual(await serviceCalls("all"), { "meshed.default": "3 calls 1 errors", "plain.default": "3 calls 0 errors" });
  assert.deepEqual(await serviceCalls("off"), {});
});

void test("Envoy's own spans mark their service as mesh-measured", async () => {
  const harness = await startTraceHarness();
  try {
    harness.traces.spanIngest.ingest("zipkin", [serverSpan("reviews", 1, { node_id: "sidecar~10.0.0.7~reviews-v1.default~default.svc.cluster.local" })]);
    // Spans are looked at once their trace is decided.
    await harness.flush();
    assert.equal(harness.meshServices.isMeasured("reviews.default", Date.now(), Date.now()), true);
  } finally {
    await harness.stop();
  }
});
