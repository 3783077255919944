/**
 * One bad row never stops storage (core/storage/write-guard.ts): on the real ClickHouse the test runner
 * starts (Debian's 18.16) and on DuckDB, values a store cannot take are repaired before it sees them, rows
 * the store still refuses are split out and counted, and every good row lands, by exact count.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EntityRecord } from "../../core/model/dimensions.ts";
import type { MinuteMetrics } from "../../core/model/metrics.ts";
import type { ProbeResult } from "../../core/model/probe.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import type { Span } from "../../core/model/span.ts";
import { MAX_NAME_CHARS, MAX_TEXT_CHARS } from "../../core/storage/storable-rows.ts";
import { BASE_MS, entity, metricRow, sample } from "../conformance/storage/fixtures.ts";
import { nsAt, probeResult, span } from "../conformance/storage/trace-fixtures.ts";
import { BACKENDS, counted, rejectsOf, STRICT_TRACE_ID_CHARS } from "./storage-backends.ts";

const GOOD_ROWS = 200;
const HOUR_MS = 3_600_000;
/** Cut at the cap it would end with the high half of a pair: the cut must drop the whole pair. */
const OVERLONG_NAME = `${"n".repeat(MAX_NAME_CHARS - 1)}🦆tail`;
const OVERLONG_TEXT = "t".repeat(MAX_TEXT_CHARS + 100);

/** The poison values of the issue (a lone high and a lone low surrogate) and an overlong name, with what each is stored as. */
const POISON: ReadonlyArray<readonly [string, string]> = [
  ["get /\ud800", "get /\ufffd"],
  ["/a\udc00b", "/a\ufffdb"],
  [OVERLONG_NAME, "n".repeat(MAX_NAME_CHARS - 1)],
];

/** Good rows with the poison rows spread among them: first, middle and last. */
function among<T>(good: readonly T[], poison: readonly T[]): T[] {
  const rows = [...good];
  poison.forEach((row, index) => rows.splice(Math.round((index * rows.length) / Math.max(1, poison.length - 1)), 0, row));
  return rows;
}

const range = { fromMs: BASE_MS - HOUR_MS, toMs: BASE_MS + HOUR_MS };

for (const backend of BACKENDS) {
  void describe(`poison rows on ${backend.name}`, () => {
    void it("repairs lone surrogates and overlong text in every kind of row: every row lands, none is refused", async () => {
      const store = await backend.open();
      try {
        const { storage, registry } = store;
        const metrics: MinuteMetrics[] = among(
          Array.from({ length: GOOD_ROWS }, (_, i) => metricRow({ timeMs: BASE_MS, scope: "endpoint", service: "good.default", name: `GET:/items/${i}` })),
          POISON.map(([name]) => metricRow({ timeMs: BASE_MS, scope: "endpoint", service: "good.default", name })),
        );
        await storage.writeMetrics(metrics);
        const endpoints = await storage.queryMetrics({ ...range, scope: "endpoint", service: "good.default", resolution: "minute", groupByTime: false });
        assert.equal(endpoints.length, GOOD_ROWS + POISON.length);
        for (const [, stored] of POISON) assert.ok(endpoints.some((row) => row.name === stored), `endpoint ${stored.slice(0, 20)} stored repaired`);

        const entities: EntityRecord[] = among(
          Array.from({ length: GOOD_ROWS }, (_, i) => entity({ kind: "endpoint", service: "good.default", name: `GET:/items/${i}`, lastSeenMs: BASE_MS })),
          POISON.map(([name]) => entity({ kind: "endpoint", service: "good.default", name, lastSeenMs: BASE_MS, attributes: { [name]: name } })),
        );
        await storage.writeEntities(entities);
        const listed = await storage.listEntities({ kind: "endpoint", service: "good.default", seenSinceMs: 0, limit: 1000 });
        assert.equal(listed.length, GOOD_ROWS + POISON.length);
        assert.deepEqual(listed.find((row) => row.name === "get /\ufffd")?.attributes, { "get /\ufffd": "get /\ufffd" });

        const samples: SampledRecord[] = among(
          Array.from({ length: GOOD_ROWS }, (_, i) => sample({ timeMs: BASE_MS + i, service: "good.default" })),
          POISON.map(([name], i) => sample({ timeMs: BASE_MS + GOOD_ROWS + i, service: "good.default", endpoint: name, raw: i === 0 ? OVERLONG_TEXT : name })),
        );
        await storage.writeSamples(samples);
        const stored = await storage.querySamples({ ...range, service: "good.default", limit: 1000 });
        assert.equal(stored.length, GOOD_ROWS + POISON.length);
        assert.equal(stored.find((row) => row.endpoint === "get /\ufffd")?.raw.length, MAX_TEXT_CHARS);

        const spans: Span[] = among(
          Array.from({ length: GOOD_ROWS }, (_, i) => span({ traceId: "trace-poison", spanId: `good-${i}`, startTimeUnixNano: nsAt(i) })),
          POISON.map(([name], i) => span({ traceId: "trace-poison", spanId: `poison-${i}`, name, attributes: { "http.route": name }, startTimeUnixNano: nsAt(GOOD_ROWS + i) })),
        );
        await storage.writeSpans(spans);
        const trace = await storage.getTrace("trace-poison");
        assert.equal(trace.length, GOOD_ROWS + POISON.length);
        assert.equal(trace.find((row) => row.spanId === "poison-0")?.attributes["http.route"], "get /\ufffd");

        const results: ProbeResult[] = among(
          Array.from({ length: GOOD_ROWS }, (_, i) => probeResult({ startedMs: BASE_MS + i })),
          POISON.map(([name], i) => probeResult({ startedMs: BASE_MS + GOOD_ROWS + i, target: name, message: name, labels: { team: name } })),
        );
        await storage.writeProbeResults(results);
        assert.equal((await storage.queryProbeResults({ ...range, limit: 1000 })).length, GOOD_ROWS + POISON.length);

        const source = `storage.${backend.name}`;
        assert.deepEqual(await rejectsOf(registry, source), {}, "nothing refused");
        const repaired = (reason: string): Promise<number> => counted(registry, "meshsight_repaired_values_total", { source, reason });
        // Metrics: the two surrogate names and the overlong one. Entities: each value three times (name, attribute key and value).
        assert.deepEqual([await repaired("metric_lone_surrogate"), await repaired("metric_too_long")], [2, 1]);
        assert.deepEqual([await repaired("entity_lone_surrogate"), await repaired("entity_too_long")], [6, 2]);
        assert.deepEqual([await repaired("sample_lone_surrogate"), await repaired("sample_too_long")], [3, 2]);
      } finally {
        await store.close();
      }
    });

    void it("splits a batch the store refuses until the refused rows stand alone: exactly those are counted, every other row lands", async () => {
      const store = await backend.open();
      try {
        const storage = await store.restrictSamples();
        const tooLong = "f".repeat(STRICT_TRACE_ID_CHARS + 8);
        const good = Array.from({ length: GOOD_ROWS }, (_, i) => sample({ timeMs: BASE_MS + i, service: "good.default", traceId: `t${i}` }));
        const refused = [0, 1, 2].map((i) => sample({ timeMs: BASE_MS + GOOD_ROWS + i, service: "good.default", traceId: tooLong }));
        await storage.writeSamples(among(good, refused));
        assert.equal((await storage.querySamples({ ...range, service: "good.default", limit: 1000 })).length, GOOD_ROWS);
        assert.deepEqual(await rejectsOf(store.registry, `storage.${backend.name}`), { malformed_sample_row: refused.length });

        // The batch after it is not held up.
        await storage.writeSamples([sample({ timeMs: BASE_MS + 2 * GOOD_ROWS, service: "good.default", traceId: "later" })]);
        assert.equal((await storage.querySamples({ ...range, service: "good.default", limit: 1000 })).length, GOOD_ROWS + 1);
      } finally {
        await store.close();
      }
    });
  });
}
