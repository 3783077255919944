import assert from "node:assert/strict";
import { it } from "node:test";
import { PERCENTILE_RELATIVE_ERROR } from "../../../core/model/histogram.ts";
import { deriveMetric, PERCENTILE_METRICS, type DerivedMetric, type MinuteMetrics } from "../../../core/model/metrics.ts";
import type { MetricsQuery } from "../../../core/storage/port.ts";
import { assertAggregatesEqual, BASE_MS, DAY, expectedMetrics, histogramOf, HOUR, metricRow, MINUTE, seededRandom } from "./fixtures.ts";
import type { ConformanceContext } from "./suite.ts";

/** Minute rows spread over three days and several hours each, some minutes written twice. */
function rowsAcrossDays(): MinuteMetrics[] {
  const random = seededRandom(42);
  const rows: MinuteMetrics[] = [];
  const minutes = [0, 1, 59, 60, 61, 125, 23 * 60 + 59, 24 * 60, 24 * 60 + 5, 26 * 60 + 30, 2 * 24 * 60 + 10, 2 * 24 * 60 + 10];
  for (const minute of minutes) {
    for (const service of ["reviews.default", "ratings.default"]) {
      const calls = 1 + Math.floor(random() * 50);
      const latencies = Array.from({ length: calls }, () => 1 + random() * 900);
      rows.push(
        metricRow({
          timeMs: BASE_MS + minute * MINUTE,
          service,
          calls,
          errors: Math.floor(random() * calls),
          latencySumMs: Math.round(latencies.reduce((sum, value) => sum + value, 0)),
          apdexSatisfied: Math.floor(calls / 2),
          apdexTolerating: Math.floor(calls / 4),
          bytesIn: calls * 10,
          bytesOut: calls * 20,
          histogram: histogramOf(latencies),
        }),
      );
    }
  }
  return rows;
}

/** Nearest-rank percentile of raw values, the exact answer the histogram estimate is held to. */
function exactPercentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? 0;
}

export function registerRollupCases({ withStore }: ConformanceContext): void {
  void it("rolls minute rows up into hours and days, summed, stamped with the bucket start", () =>
    withStore(async (storage) => {
      const rows = rowsAcrossDays();
      // Several batches, so rollup rows are merged across writes as well as within one.
      for (let start = 0; start < rows.length; start += 5) await storage.writeMetrics(rows.slice(start, start + 5));
      const range = { scope: "service", fromMs: BASE_MS, toMs: BASE_MS + 3 * DAY } as const;
      const asked: MetricsQuery[] = [
        { ...range, resolution: "hour", groupByTime: true },
        { ...range, resolution: "day", groupByTime: true },
        { ...range, resolution: "hour", groupByTime: false },
        { ...range, resolution: "day", groupByTime: false, service: "ratings.default" },
        { ...range, resolution: "hour", groupByTime: true, fromMs: BASE_MS + HOUR, toMs: BASE_MS + DAY + HOUR },
        { ...range, resolution: "day", groupByTime: true, fromMs: BASE_MS + DAY, toMs: BASE_MS + 2 * DAY },
      ];
      for (const query of asked) assertAggregatesEqual(await storage.queryMetrics(query), expectedMetrics(rows, query), JSON.stringify(query));

      const hours = await storage.queryMetrics({ ...range, resolution: "hour", groupByTime: true, service: "reviews.default" });
      assert.deepEqual(
        hours.map((row) => (row.timeMs - BASE_MS) / HOUR).sort((a, b) => a - b),
        [0, 1, 2, 23, 24, 26, 48],
        "one row per hour that had minutes, at the hour start",
      );
      const days = await storage.queryMetrics({ ...range, resolution: "day", groupByTime: true, service: "reviews.default" });
      assert.deepEqual(days.map((row) => (row.timeMs - BASE_MS) / DAY).sort((a, b) => a - b), [0, 1, 2]);
      const minuteTotal = rows.filter((row) => row.service === "reviews.default").reduce((sum, row) => sum + row.calls, 0);
      assert.equal(days.reduce((sum, row) => sum + row.calls, 0), minuteTotal, "days add up to the minutes written");
    }));

  void it("derives percentiles from stored histograms within PERCENTILE_RELATIVE_ERROR of the raw latencies", () =>
    withStore(async (storage) => {
      const random = seededRandom(7);
      const raw: number[] = [];
      const batches: MinuteMetrics[][] = [[], [], []];
      for (let minute = 0; minute < 90; minute++) {
        // A long-tailed mix: most calls fast, a few very slow, as real services look.
        const latencies = Array.from({ length: 40 }, () => (random() < 0.9 ? 2 + random() * 40 : 200 + random() * 5000));
        raw.push(...latencies);
        const row = metricRow({
          timeMs: BASE_MS + minute * MINUTE,
          scope: "endpoint",
          name: "GET:/reviews/{id}",
          calls: latencies.length,
          errors: 0,
          latencySumMs: latencies.reduce((sum, value) => sum + value, 0),
          histogram: histogramOf(latencies),
        });
        batches[minute % 3]?.push(row);
      }
      for (const batch of batches) await storage.writeMetrics(batch);
      const sorted = [...raw].sort((a, b) => a - b);
      for (const resolution of ["minute", "hour", "day"] as const) {
        const [total, ...rest] = await storage.queryMetrics({ scope: "endpoint", fromMs: BASE_MS, toMs: BASE_MS + DAY, resolution, groupByTime: false });
        assert.ok(total && rest.length === 0, `${resolution}: one aggregate`);
        assert.equal(total.calls, raw.length);
        for (const [metric, q] of Object.entries(PERCENTILE_METRICS)) {
          const exact = exactPercentile(sorted, q);
          const estimate = deriveMetric(total, metric as DerivedMetric, 90);
          const error = Math.abs(estimate - exact) / exact;
          assert.ok(error <= PERCENTILE_RELATIVE_ERROR + 1e-9, `${resolution} ${metric}: exact ${exact}, estimate ${estimate}, error ${error}`);
        }
        const average = raw.reduce((sum, value) => sum + value, 0) / raw.length;
        assert.ok(Math.abs(deriveMetric(total, "latency_avg", 90) - average) < 1e-6, `${resolution} latency_avg`);
      }
    }));
}
