import assert from "node:assert/strict";
import { it } from "node:test";
import type { ProbeResult } from "../../../core/model/probe.ts";
import type { ProbeResultQuery, ProbeSeriesPoint, ProbeSeriesQuery } from "../../../core/storage/port.ts";
import { BASE_MS, DAY, HOSTILE_NAMES, HOUR, MINUTE } from "./fixtures.ts";
import { CONFORMANCE_RETENTION, type ConformanceContext } from "./suite.ts";
import { expectedSeries, nsAt, probeResult, span } from "./trace-fixtures.ts";

const STATUSES = ["success", "failure", "timeout", "error"] as const;

/** Three probes over two targets, runs every 20 s for 2 hours, a failure now and then. */
function probeDataset(): ProbeResult[] {
  const rows: ProbeResult[] = [];
  for (let i = 0; i < 360; i++) {
    const probe = i % 3 === 0 ? "ratings-tcp" : "reviews-http";
    rows.push(
      probeResult({
        startedMs: BASE_MS + i * 20_000 + (i % 7),
        runId: `run-${i}`,
        probe,
        kind: probe === "ratings-tcp" ? "tcp" : "http",
        target: i % 2 === 0 ? "10.0.0.1:9080" : "10.0.0.2:9080",
        service: probe === "ratings-tcp" ? "ratings.default" : "reviews.default",
        status: i % 11 === 0 ? (STATUSES[(i / 11) % 4] ?? "success") : "success",
        durationMs: 0.25 + (i % 13) * 3.5,
        phases: { connect: (i % 5) * 0.5, total: 0.25 + (i % 13) * 3.5 },
        message: i % 11 === 0 ? `attempt ${i} ended: 'quoted' "reason"` : "",
        attempt: 1 + (i % 3),
        labels: i % 2 === 0 ? { zone: "a" } : {},
      }),
    );
  }
  return rows;
}

const newestFirst = (rows: readonly ProbeResult[]): ProbeResult[] => [...rows].sort((a, b) => b.startedMs - a.startedMs);

/** Duration sums are added in any order: compared to a microsecond. */
function roundedSeries(points: readonly ProbeSeriesPoint[]): ProbeSeriesPoint[] {
  return points.map((point) => ({ ...point, durationSumMs: Math.round(point.durationSumMs * 1000) / 1000 }));
}

export function registerProbeCases({ withStore }: ConformanceContext): void {
  void it("probe results: read newest first, filtered by range, probe, target, service and status, up to the limit", () =>
    withStore(async (storage) => {
      const rows = probeDataset();
      await storage.writeProbeResults(rows.slice(0, 100));
      await storage.writeProbeResults(rows.slice(100));
      const all: ProbeResultQuery = { fromMs: BASE_MS, toMs: BASE_MS + 3 * HOUR, limit: 1000 };
      const pick = (keep: (row: ProbeResult) => boolean, limit = 1000): ProbeResult[] => newestFirst(rows.filter(keep)).slice(0, limit);
      assert.deepEqual(await storage.queryProbeResults(all), pick(() => true), "every field round-trips");
      assert.deepEqual(await storage.queryProbeResults({ ...all, limit: 5 }), pick(() => true, 5), "limit keeps the newest");
      const from = BASE_MS + 10 * MINUTE;
      const to = BASE_MS + 20 * MINUTE;
      assert.deepEqual(await storage.queryProbeResults({ ...all, fromMs: from, toMs: to }), pick((row) => row.startedMs >= from && row.startedMs < to), "[from, to)");
      assert.deepEqual(await storage.queryProbeResults({ ...all, probe: "ratings-tcp" }), pick((row) => row.probe === "ratings-tcp"));
      assert.deepEqual(await storage.queryProbeResults({ ...all, target: "10.0.0.2:9080" }), pick((row) => row.target === "10.0.0.2:9080"));
      assert.deepEqual(await storage.queryProbeResults({ ...all, service: "reviews.default" }), pick((row) => row.service === "reviews.default"));
      for (const status of STATUSES) {
        const expected = pick((row) => row.status === status);
        assert.ok(expected.length > 0, `the dataset has ${status} runs`);
        assert.deepEqual(await storage.queryProbeResults({ ...all, status }), expected, status);
      }
      assert.deepEqual(
        await storage.queryProbeResults({ ...all, probe: "reviews-http", target: "10.0.0.1:9080", status: "success", limit: 3 }),
        pick((row) => row.probe === "reviews-http" && row.target === "10.0.0.1:9080" && row.status === "success", 3),
      );
      assert.deepEqual(await storage.queryProbeResults({ ...all, probe: "nobody" }), []);
    }));

  void it("probe results: series bucket runs, failures and durations per probe and target at minute and hour", () =>
    withStore(async (storage) => {
      const rows = probeDataset();
      await storage.writeProbeResults(rows);
      const all = { fromMs: BASE_MS, toMs: BASE_MS + 3 * HOUR };
      const queries: ProbeSeriesQuery[] = [
        { ...all, resolution: "minute" },
        { ...all, resolution: "hour" },
        { ...all, resolution: "day" },
        { ...all, resolution: "hour", probe: "ratings-tcp" },
        { ...all, resolution: "minute", target: "10.0.0.2:9080", fromMs: BASE_MS + 30 * MINUTE, toMs: BASE_MS + 45 * MINUTE },
        { ...all, resolution: "hour", service: "reviews.default" },
        { ...all, resolution: "hour", probe: "nobody" },
      ];
      for (const query of queries) {
        assert.deepEqual(roundedSeries(await storage.probeSeries(query)), roundedSeries(expectedSeries(rows, query)), JSON.stringify(query));
      }
      // Spelled out once, so a shared mistake in the reference cannot hide.
      const [firstHour] = await storage.probeSeries({ ...all, resolution: "hour", probe: "ratings-tcp", target: "10.0.0.1:9080" });
      const expectedRuns = rows.filter((row) => row.probe === "ratings-tcp" && row.target === "10.0.0.1:9080" && row.startedMs < BASE_MS + HOUR);
      assert.equal(firstHour?.timeMs, BASE_MS);
      assert.equal(firstHour.runs, expectedRuns.length);
      assert.equal(firstHour.failures, expectedRuns.filter((row) => row.status !== "success").length);
      assert.ok(firstHour.failures > 0 && firstHour.failures < firstHour.runs);
    }));

  void it("probe results: hostile names round-trip and match only themselves; invalid rows are refused one by one", () =>
    withStore(async (storage) => {
      const hostile = HOSTILE_NAMES.map((name, index) =>
        probeResult({ startedMs: BASE_MS + index, runId: name, probe: name, target: name, service: name, message: name, phases: { [name]: 1.5 }, labels: { [name]: name } }),
      );
      const bad: unknown[] = [
        { ...probeResult({ startedMs: BASE_MS }), status: "maybe" },
        { ...probeResult({ startedMs: BASE_MS }), durationMs: Number.NaN },
        { ...probeResult({ startedMs: -1 }) },
        { ...probeResult({ startedMs: BASE_MS }), phases: { total: "fast" } },
        { ...probeResult({ startedMs: BASE_MS }), probe: 42 },
      ];
      await storage.writeProbeResults([...(bad as ProbeResult[]), ...hostile]);
      const range = { fromMs: 0, toMs: BASE_MS + HOUR, limit: 100 };
      assert.equal((await storage.queryProbeResults(range)).length, HOSTILE_NAMES.length, "only the valid rows are stored");
      for (const row of hostile) {
        const label = JSON.stringify(row.probe.slice(0, 40));
        assert.deepEqual(await storage.queryProbeResults({ ...range, probe: row.probe, target: row.target, service: row.service }), [row], label);
        const series = await storage.probeSeries({ ...range, probe: row.probe, resolution: "minute" });
        assert.deepEqual(series.map((point) => [point.probe, point.target, point.runs]), [[row.probe, row.target, 1]], label);
      }
    }));

  void it("enforceRetention drops spans and probe results older than their retention and keeps newer ones", () =>
    withStore(async (storage) => {
      // Noon, so "N days ago" never sits on a day boundary and day-partition backends drop the same rows.
      const nowMs = BASE_MS + 60 * DAY + 12 * HOUR;
      const offset = (ageMs: number): number => nowMs - ageMs - BASE_MS;
      const freshSpan = span({ traceId: "fresh", spanId: "1", startTimeUnixNano: nsAt(offset(1 * DAY)) });
      const oldSpan = span({ traceId: "old", spanId: "1", startTimeUnixNano: nsAt(offset((CONFORMANCE_RETENTION.spansDays + 1.5) * DAY)) });
      await storage.writeSpans([freshSpan, oldSpan]);
      const freshRun = probeResult({ startedMs: nowMs - (CONFORMANCE_RETENTION.spansDays + 1.5) * DAY });
      const oldRun = probeResult({ startedMs: nowMs - (CONFORMANCE_RETENTION.probeResultsDays + 1.5) * DAY });
      await storage.writeProbeResults([freshRun, oldRun]);
      await storage.enforceRetention(nowMs);
      const everything = { fromMs: 0, toMs: nowMs + DAY, limit: 10 };
      assert.deepEqual(await storage.getTrace("fresh"), [freshSpan]);
      assert.deepEqual(await storage.getTrace("old"), []);
      assert.deepEqual((await storage.searchTraces(everything)).map((summary) => summary.traceId), ["fresh"]);
      assert.deepEqual(await storage.queryProbeResults(everything), [freshRun], "probe results keep their own, longer retention");
    }));
}
