import assert from "node:assert/strict";
import { it } from "node:test";
import type { Span } from "../../../core/model/span.ts";
import type { TraceQuery } from "../../../core/storage/port.ts";
import { BASE_MS, HOSTILE_NAMES, HOUR, MINUTE } from "./fixtures.ts";
import type { ConformanceContext } from "./suite.ts";
import { expectedSearch, expectedTrace, nsAt, span } from "./trace-fixtures.ts";

const MS = 1_000_000;

/**
 * Six traces across services, names, durations, errors and attributes. Spans arrive out of order and
 * some twice; trace-f has no root span and trace-e a child that starts before the root span ends.
 */
function traceDataset(): Span[] {
  return [
    span({ traceId: "trace-a", spanId: "a1", startTimeUnixNano: nsAt(0), durationNs: 40 * MS, service: "productpage.default", name: "GET /productpage", endpoint: "GET:/productpage" }),
    span({ traceId: "trace-a", spanId: "a2", parentSpanId: "a1", kind: "client", startTimeUnixNano: nsAt(2), durationNs: 30 * MS, service: "productpage.default", name: "GET /reviews", peerService: "reviews.default" }),
    span({ traceId: "trace-a", spanId: "a3", parentSpanId: "a2", startTimeUnixNano: nsAt(3), durationNs: 45 * MS, service: "reviews.default", isError: true, statusMessage: "upstream reset", attributes: { "http.method": "GET", "http.status_code": "503" } }),
    span({ traceId: "trace-b", spanId: "b1", startTimeUnixNano: nsAt(MINUTE), durationNs: 2 * MS, service: "ratings.default", name: "GET /ratings", endpoint: "GET:/ratings/{id}", attributes: { "http.method": "GET", tenant: "blue" } }),
    span({ traceId: "trace-c", spanId: "c1", startTimeUnixNano: nsAt(2 * MINUTE), durationNs: 1_500_000, service: "reviews.default", attributes: { "http.method": "POST", tenant: "blue" } }),
    span({ traceId: "trace-c", spanId: "c2", parentSpanId: "c1", kind: "internal", startTimeUnixNano: nsAt(2 * MINUTE, 500n), durationNs: 700_000, service: "reviews.default", name: "db query", attributes: { "db.system": "mysql" } }),
    span({ traceId: "trace-d", spanId: "d1", startTimeUnixNano: nsAt(3 * MINUTE), durationNs: 250 * MS, service: "details.default", name: "GET /details", isError: true }),
    span({ traceId: "trace-e", spanId: "e1", startTimeUnixNano: nsAt(4 * MINUTE), durationNs: 10 * MS, service: "productpage.default", name: "GET /productpage" }),
    span({ traceId: "trace-e", spanId: "e2", parentSpanId: "e1", kind: "producer", startTimeUnixNano: nsAt(4 * MINUTE + 5), durationNs: 90 * MS, service: "ratings.default", name: "publish rating" }),
    span({ traceId: "trace-f", spanId: "f2", parentSpanId: "lost-root", startTimeUnixNano: nsAt(HOUR + 5), durationNs: 3 * MS, service: "reviews.default", name: "late child" }),
    span({ traceId: "trace-f", spanId: "f1", parentSpanId: "lost-root", startTimeUnixNano: nsAt(HOUR), durationNs: 1 * MS, service: "ratings.default", name: "orphan" }),
  ];
}

export function registerSpanCases({ withStore }: ConformanceContext): void {
  void it("spans: getTrace returns every span once, ordered by start, every field exact (ns starts past 2^53)", () =>
    withStore(async (storage) => {
      const spans = traceDataset();
      const [a1, a2, a3] = spans;
      assert.ok(a1 && a2 && a3);
      // Out of order, split over batches, and repeated within a batch and across batches.
      await storage.writeSpans([a3, a1, a3]);
      await storage.writeSpans([a2, a1]);
      await storage.writeSpans(spans);
      assert.deepEqual(await storage.getTrace("trace-a"), [a1, a2, a3]);
      assert.deepEqual(await storage.getTrace("trace-c"), expectedTrace(spans, "trace-c"));
      assert.equal((await storage.getTrace("trace-c"))[1]?.startTimeUnixNano, nsAt(2 * MINUTE, 500n), "nanoseconds survive");
      assert.deepEqual(await storage.getTrace("trace-f"), expectedTrace(spans, "trace-f"), "a trace without its root");
      assert.deepEqual(await storage.getTrace("no-such-trace"), []);
      assert.deepEqual(await storage.getTrace(""), []);
    }));

  void it("spans: searchTraces filters by any one span and summarizes the whole trace, newest first", () =>
    withStore(async (storage) => {
      const spans = traceDataset();
      await storage.writeSpans(spans.slice(0, 5));
      await storage.writeSpans([...spans.slice(3), spans[0] as Span]);
      const all: TraceQuery = { fromMs: BASE_MS, toMs: BASE_MS + 2 * HOUR, limit: 100 };
      const queries: [string, TraceQuery][] = [
        ["every trace", all],
        ["limit keeps the newest", { ...all, limit: 2 }],
        ["[from, to) on span starts", { ...all, fromMs: BASE_MS + MINUTE, toMs: BASE_MS + 3 * MINUTE }],
        ["a later span of a trace matches even when the root is outside the range", { ...all, fromMs: BASE_MS + 4 * MINUTE + 5, toMs: BASE_MS + 5 * MINUTE }],
        ["service", { ...all, service: "reviews.default" }],
        ["span name", { ...all, name: "GET /productpage" }],
        ["endpoint as name", { ...all, name: "GET:/ratings/{id}" }],
        ["min duration", { ...all, minDurationMs: 45 }],
        ["max duration (fractional, inclusive)", { ...all, maxDurationMs: 1.5 }],
        ["min and max on the same span", { ...all, minDurationMs: 30, maxDurationMs: 40 }],
        ["only errors", { ...all, onlyErrors: true }],
        ["onlyErrors false means all", { ...all, onlyErrors: false }],
        ["one attribute", { ...all, attributes: { tenant: "blue" } }],
        ["two attributes on one span", { ...all, attributes: { tenant: "blue", "http.method": "POST" } }],
        ["attributes on different spans do not combine", { ...all, attributes: { "db.system": "mysql", tenant: "blue" } }],
        ["every filter at once", { ...all, service: "reviews.default", name: "GET /reviews", minDurationMs: 40, onlyErrors: true, attributes: { "http.status_code": "503" } }],
        ["nothing matches", { ...all, service: "nobody.default" }],
        ["limit 0", { ...all, limit: 0 }],
      ];
      for (const [what, query] of queries) {
        assert.deepEqual(await storage.searchTraces(query), expectedSearch(spans, query), what);
      }
      // The reference itself, spelled out once, so a shared mistake in it cannot hide.
      const [traceA] = await storage.searchTraces({ ...all, service: "productpage.default", name: "GET /reviews" });
      assert.deepEqual(traceA, {
        traceId: "trace-a",
        rootService: "productpage.default",
        rootName: "GET /productpage",
        startTimeMs: BASE_MS,
        durationMs: 48,
        spanCount: 3,
        errorCount: 1,
        services: ["productpage.default", "reviews.default"],
      });
      const [traceF] = await storage.searchTraces({ ...all, service: "ratings.default", name: "orphan" });
      assert.deepEqual([traceF?.rootService, traceF?.rootName, traceF?.durationMs], ["ratings.default", "orphan", 8], "earliest span stands in for a missing root");
    }));

  void it("spans: lists the services and span names seen in a range", () =>
    withStore(async (storage) => {
      const spans = traceDataset();
      await storage.writeSpans(spans);
      assert.deepEqual(await storage.listSpanServices(BASE_MS, BASE_MS + 2 * HOUR), ["details.default", "productpage.default", "ratings.default", "reviews.default"]);
      assert.deepEqual(await storage.listSpanServices(BASE_MS + HOUR, BASE_MS + 2 * HOUR), ["ratings.default", "reviews.default"]);
      assert.deepEqual(await storage.listSpanServices(BASE_MS - HOUR, BASE_MS), [], "[from, to)");
      assert.deepEqual(await storage.listSpanNames("reviews.default", BASE_MS, BASE_MS + 2 * HOUR), ["GET /reviews", "db query", "late child"]);
      assert.deepEqual(await storage.listSpanNames("reviews.default", BASE_MS, BASE_MS + HOUR), ["GET /reviews", "db query"]);
      assert.deepEqual(await storage.listSpanNames("nobody.default", BASE_MS, BASE_MS + 2 * HOUR), []);
    }));

  void it("spans: invalid spans are refused one by one and the valid ones around them are stored", () =>
    withStore(async (storage) => {
      const good = span({ traceId: "good", spanId: "g1" });
      const bad: unknown[] = [
        { ...span({ traceId: "bad", spanId: "1" }), kind: "sideways" },
        { ...span({ traceId: "bad", spanId: "2" }), durationNs: -1 },
        { ...span({ traceId: "bad", spanId: "3" }), startTimeUnixNano: 1 },
        { ...span({ traceId: "bad", spanId: "4" }), startTimeUnixNano: -5n },
        { ...span({ traceId: "", spanId: "5" }) },
        { ...span({ traceId: "bad", spanId: "6" }), attributes: { key: 7n } },
        { ...span({ traceId: "bad", spanId: "7" }), service: null },
      ];
      await storage.writeSpans([...(bad as Span[]), good]);
      assert.deepEqual(await storage.getTrace("good"), [good]);
      assert.deepEqual(await storage.getTrace("bad"), []);
      assert.deepEqual(await storage.listSpanServices(0, BASE_MS + HOUR), ["reviews.default"]);
    }));

  void it("spans: hostile ids, names and attributes round-trip exactly and match only themselves", () =>
    withStore(async (storage) => {
      const written = HOSTILE_NAMES.map((name, index) =>
        span({
          traceId: name,
          spanId: name,
          parentSpanId: "",
          name,
          service: name,
          endpoint: name,
          statusMessage: name,
          startTimeUnixNano: nsAt(index),
          attributes: { [name]: name },
          resourceAttributes: { [name]: name },
        }),
      );
      const control = span({ traceId: "control", spanId: "c", service: "control.default" });
      await storage.writeSpans([...written, control]);
      const range = { fromMs: BASE_MS, toMs: BASE_MS + HOUR, limit: 10 };
      for (const hostile of written) {
        const label = JSON.stringify(hostile.name.slice(0, 40));
        assert.deepEqual(await storage.getTrace(hostile.traceId), [hostile], `${label} getTrace`);
        const found = await storage.searchTraces({ ...range, service: hostile.service, name: hostile.name, attributes: hostile.attributes });
        assert.deepEqual(found.map((summary) => summary.traceId), [hostile.traceId], `${label} searchTraces`);
        assert.deepEqual(await storage.listSpanNames(hostile.service, range.fromMs, range.toMs), [hostile.name], `${label} listSpanNames`);
      }
      assert.equal((await storage.listSpanServices(range.fromMs, range.toMs)).length, HOSTILE_NAMES.length + 1);
      assert.deepEqual(await storage.getTrace("control"), [control], "the control trace is still there");
    }));
}
