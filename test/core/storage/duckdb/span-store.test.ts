/** DuckDB span writes pass attribute maps as JSON text: text JSON cannot carry must still store, not fail the batch. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import type { Span } from "../../../../core/model/span.ts";
import { DuckDbStorage } from "../../../../core/storage/duckdb/duckdb-storage.ts";

const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

function span(traceId: string, attributes: Record<string, string>): Span {
  return {
    traceId,
    spanId: "s1",
    parentSpanId: "",
    name: "op",
    kind: "server",
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    durationNs: 1000,
    service: "svc",
    instance: "",
    endpoint: "",
    peerService: "",
    isError: false,
    statusMessage: "",
    attributes,
    resourceAttributes: { "service.name": "svc", note: attributes.note ?? "" },
  };
}

void test("lone surrogates become U+FFFD, escaped look-alikes and control characters round-trip, the batch is stored whole", async () => {
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger: pino({ level: "silent" }) });
  await storage.start();
  try {
    await storage.writeSpans([
      span("lone", { "key \ud800": "high \ud83e alone, low \udc00 alone", note: "\udfff" }),
      span("paired", { emoji: "🦆 \ud83e\udd86" }),
      span("escaped", { text: "a literal \\ud800 and \\\\ud800", nul: "nul \u0000 ctl \u0001" }),
    ]);
    assert.deepEqual((await storage.getTrace("lone"))[0]?.attributes, { "key \ufffd": "high \ufffd alone, low \ufffd alone", note: "\ufffd" });
    assert.equal((await storage.getTrace("lone"))[0]?.resourceAttributes.note, "\ufffd");
    assert.deepEqual((await storage.getTrace("paired"))[0]?.attributes, { emoji: "🦆 🦆" });
    assert.deepEqual((await storage.getTrace("escaped"))[0]?.attributes, { text: "a literal \\ud800 and \\\\ud800", nul: "nul \u0000 ctl \u0001" });
  } finally {
    await storage.close();
  }
});
