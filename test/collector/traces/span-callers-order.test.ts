/** A server span's caller does not depend on which span of the call arrived first (docs/traces.md). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SpanInput } from "../../../collector/span-input.ts";
import { startTraceHarness } from "./harness.ts";

const MINUTE = 60_000;

function span(traceIndex: number, spanId: string, parentSpanId: string, kind: "server" | "client", service: string, attributes: Record<string, string> = {}): SpanInput {
  return {
    traceId: (traceIndex + 1).toString(16).padStart(32, "c"),
    spanId,
    parentSpanId,
    name: kind === "server" ? "GET /items" : "GET",
    kind,
    startTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    durationNs: 3_000_000,
    hasErrorStatus: false,
    statusMessage: "",
    attributes: { "http.method": "GET", "http.route": "/items", "http.status_code": "200", ...attributes },
    resourceAttributes: { "service.name": service, "k8s.namespace.name": "shop" },
  };
}

/** frontend (root server span) -> client span with peer.service backend -> backend's server span. */
function trace(traceIndex: number): { root: SpanInput; client: SpanInput; child: SpanInput } {
  const id = (n: number): string => `${(traceIndex + 1).toString(16).padStart(8, "0")}0000000${n}`;
  return {
    root: span(traceIndex, id(1), "", "server", "frontend"),
    client: span(traceIndex, id(2), id(1), "client", "frontend", { "peer.service": "backend" }),
    child: span(traceIndex, id(3), id(2), "server", "backend"),
  };
}

void test("the child's server span finds its caller whether it arrives before or after its parent", async () => {
  const harness = await startTraceHarness({ spanMetrics: "all" });
  try {
    for (let index = 0; index < 4; index++) {
      const { root, client, child } = trace(index);
      // Children end first and are exported first; half the traces arrive that way, half parent-first.
      const batches = index % 2 === 0 ? [[child], [client, root]] : [[root, client], [child]];
      for (const batch of batches) assert.equal(harness.traces.spanIngest.ingest("otlp", batch).outcome, "accepted");
    }
    // A server span whose parent never arrives: it counts for its service, with no invented caller.
    const orphan = trace(9).child;
    harness.traces.spanIngest.ingest("otlp", [orphan]);
    await harness.flush();
    const nowMs = Date.now();
    const range = { fromMs: nowMs - 2 * MINUTE, toMs: nowMs + MINUTE, resolution: "minute" as const, groupByTime: false };
    const relations = await harness.storage.queryMetrics({ ...range, scope: "relation" });
    assert.deepEqual(relations.map((row) => `${row.service} -> ${row.name} ${row.detectPoint} ${row.calls}`).sort(), [
      "UNKNOWN -> frontend.shop server 4",
      "frontend.shop -> backend.shop client 4",
      "frontend.shop -> backend.shop server 4",
    ]);
    const services = await harness.storage.queryMetrics({ ...range, scope: "service" });
    assert.deepEqual(services.map((row) => `${row.service} ${row.calls}`).sort(), ["backend.shop 5", "frontend.shop 4"]);
  } finally {
    await harness.stop();
  }
});
