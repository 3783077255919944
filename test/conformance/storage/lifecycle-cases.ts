import assert from "node:assert/strict";
import { it } from "node:test";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import type { StorageAdapter } from "../../../core/storage/port.ts";
import { assertAggregatesEqual, BASE_MS, DAY, entity, expectedMetrics, HOUR, metricRow, MINUTE, sample } from "./fixtures.ts";
import { CONFORMANCE_RETENTION, type ConformanceContext } from "./suite.ts";
import { waitUntilPasses } from "../../support/wait-for.ts";

export function registerLifecycleCases({ withStore, capabilities }: ConformanceContext): void {
  void it("start() is idempotent and a reopened store still holds its data and schema", (t) =>
    withStore(async (storage, opened) => {
      await storage.start();
      await Promise.all([storage.start(), storage.start()]);
      const rows = [metricRow({ timeMs: BASE_MS }), metricRow({ timeMs: BASE_MS + MINUTE, calls: 3 })];
      await storage.writeMetrics(rows);
      await storage.writeEntities([entity({ service: "reviews.default", lastSeenMs: BASE_MS })]);
      const query = { scope: "service", fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "minute", groupByTime: true } as const;
      assertAggregatesEqual(await storage.queryMetrics(query), expectedMetrics(rows, query), "after repeated start()");
      assert.equal(await storage.ping(), true);

      if (!capabilities.reopensExistingStore) {
        t.diagnostic("backend declares reopensExistingStore=false: reopen not checked");
        return;
      }
      assert.ok(opened.reopen, "the backend must give open() results a reopen(), or declare reopensExistingStore: false");
      await storage.close();
      let reopened: StorageAdapter | undefined;
      try {
        reopened = await opened.reopen();
        await reopened.start();
        await reopened.start();
        assertAggregatesEqual(await reopened.queryMetrics(query), expectedMetrics(rows, query), "after reopening");
        assert.equal((await reopened.listEntities({ kind: "service", seenSinceMs: 0, limit: 10 })).length, 1);
        // Migrations must not have run twice over existing tables: writing still merges into the old rows.
        await reopened.writeMetrics([rows[0] as MinuteMetrics]);
        const merged = expectedMetrics([...rows, rows[0] as MinuteMetrics], query);
        assertAggregatesEqual(await reopened.queryMetrics(query), merged, "writes after reopening merge");
      } finally {
        await reopened?.close();
      }
    }));

  void it("enforceRetention drops rows older than each resolution's retention and keeps newer ones", () =>
    withStore(async (storage) => {
      // Noon, so "N days ago" never sits on a day boundary and day-partition backends drop the same rows.
      const nowMs = BASE_MS + 60 * DAY + 12 * HOUR;
      const at = (ageMs: number, calls: number): MinuteMetrics => metricRow({ timeMs: Math.floor((nowMs - ageMs) / HOUR) * HOUR, calls });
      const rows = {
        // minute retention is 2 days, hour 10, day 40 (CONFORMANCE_RETENTION)
        fresh: at(1 * DAY, 1),
        pastMinute: at(CONFORMANCE_RETENTION.minuteDays * DAY + 1.5 * DAY, 10),
        pastHour: at(CONFORMANCE_RETENTION.hourDays * DAY + 1.5 * DAY, 100),
        pastDay: at(CONFORMANCE_RETENTION.dayDays * DAY + 1.5 * DAY, 1000),
      };
      await storage.writeMetrics(Object.values(rows));
      const samples = [sample({ timeMs: nowMs - 3 * HOUR }), sample({ timeMs: nowMs - (CONFORMANCE_RETENTION.samplesDays + 1.5) * DAY })];
      await storage.writeSamples(samples);
      await storage.enforceRetention(nowMs);

      const totalCalls = async (resolution: "minute" | "hour" | "day"): Promise<number> =>
        (await storage.queryMetrics({ scope: "service", fromMs: 0, toMs: nowMs + DAY, resolution, groupByTime: true })).reduce((sum, row) => sum + row.calls, 0);
      await waitUntilPasses(async () => {
        assert.equal(await totalCalls("minute"), 1, "minute keeps only the fresh row");
        assert.equal(await totalCalls("hour"), 11, "hour keeps what is younger than its 10 days");
        assert.equal(await totalCalls("day"), 111, "day keeps what is younger than its 40 days");
        assert.deepEqual(await storage.querySamples({ fromMs: 0, toMs: nowMs + DAY, limit: 10 }), [samples[0]]);
      }, 30_000);
    }));

  void it("enforceRetention cuts minute rows exactly at now - minuteDays (or declares day granularity)", (t) =>
    withStore(async (storage) => {
      const nowMs = BASE_MS + 30 * DAY + 6 * HOUR + 30 * MINUTE;
      const cutoff = nowMs - CONFORMANCE_RETENTION.minuteDays * DAY;
      const onCutoff = metricRow({ timeMs: cutoff, calls: 1 });
      const beforeCutoff = metricRow({ timeMs: cutoff - MINUTE, calls: 10 });
      await storage.writeMetrics([onCutoff, beforeCutoff]);
      await storage.enforceRetention(nowMs);
      const rows = await storage.queryMetrics({ scope: "service", fromMs: 0, toMs: nowMs, resolution: "minute", groupByTime: true });
      if (capabilities.exactRetentionCutoff) {
        await waitUntilPasses(async () => {
          const kept = await storage.queryMetrics({ scope: "service", fromMs: 0, toMs: nowMs, resolution: "minute", groupByTime: true });
          assert.deepEqual(kept.map((row) => row.timeMs), [cutoff], "the row at the cutoff stays, the one a minute older goes");
        }, 30_000);
      } else {
        t.diagnostic("backend declares exactRetentionCutoff=false: only checks that nothing younger than the cutoff was dropped");
        assert.ok(rows.some((row) => row.timeMs === cutoff), "the row at the cutoff must stay");
      }
    }));
}
