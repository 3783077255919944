import assert from "node:assert/strict";
import { it } from "node:test";
import { mergeSparse } from "../../../core/model/histogram.ts";
import type { MetricAggregate, MetricScope, MinuteMetrics } from "../../../core/model/metrics.ts";
import type { MetricsQuery } from "../../../core/storage/port.ts";
import { assertAggregatesEqual, BASE_MS, expectedMetrics, histogramOf, HOUR, metricRow, MINUTE } from "./fixtures.ts";
import type { ConformanceContext } from "./suite.ts";

const SCOPES: readonly MetricScope[] = ["service", "instance", "endpoint", "relation"];

/** Rows for every scope over five minutes: two services, several entities, relations seen from both sides. */
function rowsForEveryScope(): MinuteMetrics[] {
  const rows: MinuteMetrics[] = [];
  for (let minute = 0; minute < 5; minute++) {
    const timeMs = BASE_MS + minute * MINUTE;
    for (const [index, service] of ["reviews.default", "ratings.default"].entries()) {
      const calls = 10 + minute + index * 7;
      const values = { calls, errors: minute % 2, latencySumMs: calls * 12.5, apdexSatisfied: calls - 2, apdexTolerating: 1, bytesIn: calls * 100, bytesOut: calls * 300 };
      const histogram = histogramOf(Array.from({ length: calls }, (_, i) => 1 + i * (minute + 1)));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "service", service }));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "instance", service, name: `${service}-pod-${minute % 2}` }));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "endpoint", service, name: "GET:/reviews/{id}" }));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "endpoint", service, name: "POST:/reviews" }));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "relation", service: "productpage.default", name: service, detectPoint: "client", component: "http" }));
      rows.push(metricRow({ ...values, histogram, timeMs, scope: "relation", service: "productpage.default", name: service, detectPoint: "server", component: "mtls" }));
    }
  }
  return rows;
}

function query(overrides: Partial<MetricsQuery> & Pick<MetricsQuery, "scope">): MetricsQuery {
  return { fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "minute", groupByTime: false, ...overrides };
}

export function registerMetricsCases({ withStore }: ConformanceContext): void {
  void it("writes batches for every scope and reads them back, summed and as a series", () =>
    withStore(async (storage) => {
      const rows = rowsForEveryScope();
      const half = Math.floor(rows.length / 2);
      await storage.writeMetrics(rows.slice(0, half));
      await storage.writeMetrics(rows.slice(half));
      for (const scope of SCOPES) {
        for (const groupByTime of [false, true]) {
          const asked = query({ scope, groupByTime });
          const expected = expectedMetrics(rows, asked);
          assert.ok(expected.length > 0, "the fixture covers every scope");
          assertAggregatesEqual(await storage.queryMetrics(asked), expected, `${scope} groupByTime=${groupByTime}`);
        }
      }
    }));

  void it("keeps a metric write's id with its rows: only ids written are found stored, the rows count once", () =>
    withStore(async (storage) => {
      const row = metricRow({ scope: "service", service: "ids.default", timeMs: BASE_MS, calls: 4 });
      assert.equal(await storage.isMetricWriteStored(7_001, BASE_MS), false);
      await storage.writeMetrics([row], 7_001);
      await storage.writeMetrics([{ ...row, calls: 2 }]);
      assert.equal(await storage.isMetricWriteStored(7_001, BASE_MS), true);
      assert.equal(await storage.isMetricWriteStored(7_002, BASE_MS), false);
      const [total] = await storage.queryMetrics(query({ scope: "service", service: "ids.default" }));
      assert.equal(total?.calls, 6);
    }));

  void it("merges the same key and minute by summing, within a batch and across batches, histograms element-wise", () =>
    withStore(async (storage) => {
      const key = { scope: "endpoint", service: "reviews.default", name: "GET:/reviews/{id}", timeMs: BASE_MS + 7 * MINUTE } as const;
      const first = metricRow({ ...key, calls: 6, errors: 1, latencySumMs: 60.5, apdexSatisfied: 4, apdexTolerating: 1, bytesIn: 10, bytesOut: 20, histogram: { buckets: [3, 10, 40], counts: [1, 2, 3] } });
      const second = metricRow({ ...key, calls: 7, errors: 2, latencySumMs: 70.25, apdexSatisfied: 5, apdexTolerating: 2, bytesIn: 11, bytesOut: 21, histogram: { buckets: [10, 41, 200], counts: [5, 1, 1] } });
      const third = metricRow({ ...key, calls: 3, errors: 0, latencySumMs: 3, apdexSatisfied: 3, apdexTolerating: 0, bytesIn: 1, bytesOut: 2, histogram: { buckets: [0, 3, 255], counts: [1, 1, 1] } });
      await storage.writeMetrics([first, second]);
      await storage.writeMetrics([third]);
      const histogram = mergeSparse(first.histogram, second.histogram, third.histogram);
      assert.deepEqual(histogram, { buckets: [0, 3, 10, 40, 41, 200, 255], counts: [1, 2, 7, 3, 1, 1, 1] }, "the fixture overlaps partially");
      for (const resolution of ["minute", "hour", "day"] as const) {
        const [merged, ...rest] = await storage.queryMetrics(query({ scope: "endpoint", resolution, fromMs: BASE_MS, toMs: BASE_MS + 86_400_000, groupByTime: true }));
        assert.equal(rest.length, 0, `${resolution}: one row for one key`);
        assert.ok(merged, `${resolution}: the merged row is there`);
        assert.deepEqual(
          { calls: merged.calls, errors: merged.errors, apdexSatisfied: merged.apdexSatisfied, apdexTolerating: merged.apdexTolerating, bytesIn: merged.bytesIn, bytesOut: merged.bytesOut, histogram: merged.histogram },
          { calls: 16, errors: 3, apdexSatisfied: 12, apdexTolerating: 3, bytesIn: 22, bytesOut: 43, histogram },
          resolution,
        );
        assert.ok(Math.abs(merged.latencySumMs - 133.75) < 1e-9, `${resolution}: latency sum ${merged.latencySumMs}`);
      }
    }));

  void it("reads half-open time ranges [from, to) and filters by service, name and detect point", () =>
    withStore(async (storage) => {
      const rows = rowsForEveryScope();
      await storage.writeMetrics(rows);
      const cases: MetricsQuery[] = [
        query({ scope: "service", groupByTime: true, fromMs: BASE_MS + MINUTE, toMs: BASE_MS + 3 * MINUTE }),
        query({ scope: "service", groupByTime: false, fromMs: BASE_MS + MINUTE, toMs: BASE_MS + 3 * MINUTE }),
        query({ scope: "service", groupByTime: true, fromMs: BASE_MS + 4 * MINUTE, toMs: BASE_MS + 4 * MINUTE + 1 }),
        query({ scope: "endpoint", service: "ratings.default", groupByTime: true }),
        query({ scope: "endpoint", service: "ratings.default", name: "POST:/reviews", groupByTime: false }),
        query({ scope: "instance", name: "reviews.default-pod-1", groupByTime: true }),
        query({ scope: "relation", detectPoint: "server", groupByTime: false }),
        query({ scope: "relation", service: "productpage.default", name: "reviews.default", detectPoint: "client", groupByTime: true }),
      ];
      for (const asked of cases) {
        const expected = expectedMetrics(rows, asked);
        assert.ok(expected.length > 0, `fixture answers ${JSON.stringify(asked)}`);
        assertAggregatesEqual(await storage.queryMetrics(asked), expected, JSON.stringify(asked));
      }
      const [edge] = await storage.queryMetrics(query({ scope: "service", service: "reviews.default", groupByTime: true, fromMs: BASE_MS + 2 * MINUTE, toMs: BASE_MS + 3 * MINUTE }));
      assert.equal(edge?.timeMs, BASE_MS + 2 * MINUTE, "from is inclusive");
      const none = await storage.queryMetrics(query({ scope: "service", groupByTime: true, fromMs: BASE_MS + 5 * MINUTE, toMs: BASE_MS + 9 * MINUTE }));
      assert.deepEqual(none, [], "to is exclusive and nothing lies after the data");
    }));

  void it("ranks topN by calls, errors and average latency, honouring limit, filters and ties (service, then name)", () =>
    withStore(async (storage) => {
      const timeMs = BASE_MS + 3 * MINUTE;
      const endpoint = (service: string, name: string, calls: number, errors: number, latencySumMs: number): MinuteMetrics =>
        metricRow({ scope: "endpoint", service, name, timeMs, calls, errors, latencySumMs, apdexSatisfied: calls, apdexTolerating: 0 });
      await storage.writeMetrics([
        endpoint("b.default", "GET:/b", 50, 5, 500),
        endpoint("b.default", "GET:/a", 50, 0, 50),
        endpoint("a.default", "GET:/z", 50, 1, 1000),
        endpoint("a.default", "GET:/a", 50, 5, 100),
        endpoint("c.default", "GET:/c", 80, 0, 80),
        endpoint("c.default", "GET:/d", 10, 9, 2000),
      ]);
      // A second minute for one entity: ranking uses sums over the range, not single rows.
      await storage.writeMetrics([{ ...endpoint("a.default", "GET:/a", 40, 1, 40), timeMs: timeMs + MINUTE }]);
      const base = { scope: "endpoint", fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "minute" } as const;
      const ranked = async (orderBy: "calls" | "errors" | "latency_avg", limit: number, service?: string): Promise<string[]> =>
        (await storage.topN({ ...base, orderBy, limit, ...(service === undefined ? {} : { service }) })).map((row) => `${row.service} ${row.name}`);
      assert.deepEqual(await ranked("calls", 5), ["a.default GET:/a", "c.default GET:/c", "a.default GET:/z", "b.default GET:/a", "b.default GET:/b"]);
      assert.deepEqual(await ranked("calls", 3), ["a.default GET:/a", "c.default GET:/c", "a.default GET:/z"], "limit cuts after the ordering");
      assert.deepEqual(await ranked("errors", 10), ["c.default GET:/d", "a.default GET:/a", "b.default GET:/b", "a.default GET:/z", "b.default GET:/a", "c.default GET:/c"]);
      assert.deepEqual(await ranked("latency_avg", 10), ["c.default GET:/d", "a.default GET:/z", "b.default GET:/b", "a.default GET:/a", "b.default GET:/a", "c.default GET:/c"]);
      assert.deepEqual(await ranked("calls", 1, "c.default"), ["c.default GET:/c"]);
      assert.deepEqual(await ranked("calls", 10, "nobody.default"), []);
      const [top] = await storage.topN({ ...base, orderBy: "calls", limit: 1 });
      assert.deepEqual(
        { calls: top?.calls, errors: top?.errors, latencySumMs: top?.latencySumMs, timeMs: top?.timeMs },
        { calls: 90, errors: 6, latencySumMs: 140, timeMs: BASE_MS },
        "a topN row carries the summed values, stamped with the range start",
      );
      assert.deepEqual(top?.histogram, { buckets: [80, 90], counts: [12, 8] }, "and the summed histogram");
    }));

  void it("reads the series of the busiest entities only, ranked in storage (a relation by its client side), and counts them all", () =>
    withStore(async (storage) => {
      const at = (minute: number): number => BASE_MS + minute * MINUTE;
      const service = (name: string, calls: number, minute: number): MinuteMetrics => metricRow({ scope: "service", service: name, calls, timeMs: at(minute) });
      const relation = (to: string, detectPoint: "client" | "server", calls: number, minute: number): MinuteMetrics =>
        metricRow({ scope: "relation", service: "productpage.default", name: to, detectPoint, component: "http", calls, timeMs: at(minute) });
      const rows = [
        // Services: d (30 over two minutes) > b = c (20, tie by name) > a (5); e only before the range.
        service("d.default", 10, 1), service("d.default", 20, 2), service("c.default", 20, 1), service("b.default", 20, 2), service("a.default", 5, 1), service("e.default", 99, 0),
        // Relations: x is 5 by its caller though its callee saw 100; y has only its callee's 50; z its caller's 20.
        relation("x.default", "client", 5, 1), relation("x.default", "server", 100, 1), relation("y.default", "server", 50, 2), relation("z.default", "client", 20, 2),
      ];
      await storage.writeMetrics(rows);
      const range = { fromMs: at(1), toMs: at(3), resolution: "minute" } as const;
      const expectedOf = (scope: MetricScope, names: string[], groupByTime: boolean, fromMs = range.fromMs, toMs = range.toMs): MetricAggregate[] =>
        names.flatMap((name) => expectedMetrics(rows, { scope, fromMs, toMs, resolution: "minute", groupByTime, ...(scope === "service" ? { service: name } : { name }) }));

      const services = await storage.busiestSeries({ ...range, scope: "service", limit: 3, groupByTime: true });
      assert.equal(services.entityCount, 4, "every service of the range is counted, kept or not");
      assertAggregatesEqual(services.rows, expectedOf("service", ["d.default", "b.default", "c.default"], true), "the three busiest services, ties by name");
      const relations = await storage.busiestSeries({ ...range, scope: "relation", limit: 2, groupByTime: false });
      assert.equal(relations.entityCount, 3);
      assertAggregatesEqual(relations.rows, expectedOf("relation", ["y.default", "z.default"], false), "y (its callee's 50) and z (its caller's 20) before x (its caller's 5)");
      assert.deepEqual(await storage.busiestSeries({ ...range, scope: "endpoint", limit: 3, groupByTime: true }), { rows: [], entityCount: 0 });

      // Rows of another range for the entities ranked by this one: e is busiest before, but not ranked.
      const before = await storage.busiestSeries({ scope: "service", fromMs: at(0), toMs: at(2), resolution: "minute", limit: 2, groupByTime: false, rankedBy: { fromMs: range.fromMs, toMs: range.toMs } });
      assert.equal(before.entityCount, 4, "counted over the ranking range");
      assertAggregatesEqual(before.rows, expectedOf("service", ["d.default"], false, at(0), at(2)), "b ranks second but has no row before minute 2");
    }));

  void it("returns [] for empty stores, unknown services and ranges without data", () =>
    withStore(async (storage) => {
      for (const scope of SCOPES) assert.deepEqual(await storage.queryMetrics(query({ scope })), [], `empty ${scope}`);
      assert.deepEqual(await storage.topN({ scope: "service", fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "hour", orderBy: "calls", limit: 5 }), []);
      await storage.writeMetrics(rowsForEveryScope());
      assert.deepEqual(await storage.queryMetrics(query({ scope: "service", service: "unknown.default" })), []);
      assert.deepEqual(await storage.queryMetrics(query({ scope: "endpoint", service: "reviews.default", name: "GET:/nothing" })), []);
      assert.deepEqual(await storage.queryMetrics(query({ scope: "service", fromMs: BASE_MS - HOUR, toMs: BASE_MS })), []);
      assert.deepEqual(await storage.topN({ scope: "service", service: "unknown.default", fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "minute", orderBy: "errors", limit: 5 }), []);
      assert.deepEqual(await storage.listEntities({ kind: "service", seenSinceMs: 0, limit: 10 }), []);
      assert.deepEqual(await storage.querySamples({ fromMs: 0, toMs: BASE_MS * 2, limit: 10 }), []);
    }));
}
