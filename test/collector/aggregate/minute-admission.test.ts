import assert from "node:assert/strict";
import { test } from "node:test";
import { MinuteAggregator } from "../../../collector/aggregate/minute-aggregator.ts";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { meshCall, telemetry } from "./fixtures.ts";

/**
 * Event time: history (a file, `meshsight ingest`) is judged by its own watermark, live input by the clock,
 * each input apart from the others, in the one aggregator both share.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 30);
/** Two days before NOW, on a minute boundary. */
const OLD = Date.UTC(2026, 11, 5, 12, 0, 0);

function build(): { aggregator: MinuteAggregator; telemetry: ReturnType<typeof telemetry> } {
  const t = telemetry();
  return { aggregator: new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => NOW, latenessMs: 120_000 }), telemetry: t };
}

function serviceCallsByMinute(rows: MinuteMetrics[]): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const row of rows) if (row.scope === "service") calls[`+${(row.timeMs - OLD) / MINUTE}m`] = (calls[`+${(row.timeMs - OLD) / MINUTE}m`] ?? 0) + row.calls;
  return calls;
}

void test("a two-day-old input loads whole by its own time, where the clock calls every record late", async () => {
  const { aggregator, telemetry: t } = build();
  const history = aggregator.eventTimeAdmission(7 * DAY);
  const added = aggregator.withAdmission(history, () => [0, 1, 2, 3].map((minute) => aggregator.add(meshCall({ timeMs: OLD + minute * MINUTE + 5_000 }))));
  assert.deepEqual(added, [true, true, true, true]);
  assert.equal(aggregator.add(meshCall({ timeMs: OLD + 5_000 })), false, "live input is still judged by the clock");
  assert.equal(await t.rejected("aggregate", "late"), 1);
  assert.deepEqual(serviceCallsByMinute(aggregator.drain(NOW).metrics), { "+0m": 1, "+1m": 1, "+2m": 1, "+3m": 1 });
  assert.deepEqual(history.covered(), { fromMs: OLD, toMs: OLD + 4 * MINUTE });
});

void test("records out of order by up to the lateness are taken; a minute closes once the input reaches lateness past its end", async () => {
  const { aggregator, telemetry: t } = build();
  const history = aggregator.eventTimeAdmission(7 * DAY);
  // Minute offsets in input order. With 120 s lateness, minute 0 is open until the input reaches minute 3.
  const order = [0, 2, 0, 1, 3, 0, 1, 5, 2, 3];
  const added = aggregator.withAdmission(history, () => order.map((minute) => aggregator.add(meshCall({ timeMs: OLD + minute * MINUTE + 1_000 }))));
  assert.deepEqual(added, [true, true, true, true, true, false, true, true, false, true]);
  assert.equal(await t.rejected("aggregate", "late"), 2);
  assert.deepEqual(serviceCallsByMinute(aggregator.drain(NOW).metrics), { "+0m": 2, "+1m": 2, "+2m": 1, "+3m": 2, "+5m": 1 });
});

void test("records older than retention are expired, records ahead of the clock are future, whatever the watermark", async () => {
  const { aggregator, telemetry: t } = build();
  const history = aggregator.eventTimeAdmission(1 * DAY);
  const added = aggregator.withAdmission(history, () => [
    aggregator.add(meshCall({ timeMs: NOW - 30_000 })),
    aggregator.add(meshCall({ timeMs: OLD })),
    aggregator.add(meshCall({ timeMs: NOW + 10 * MINUTE })),
    aggregator.add(meshCall({ timeMs: NOW - DAY + MINUTE })),
  ]);
  assert.deepEqual(added, [true, false, false, false]);
  assert.deepEqual([await t.rejected("aggregate", "expired"), await t.rejected("aggregate", "future"), await t.rejected("aggregate", "late")], [1, 1, 1]);
});

void test("each input has its own watermark, and reopening a drained minute adds another partial sum", () => {
  const { aggregator } = build();
  const newer = aggregator.eventTimeAdmission(7 * DAY);
  const older = aggregator.eventTimeAdmission(7 * DAY);
  assert.equal(aggregator.withAdmission(newer, () => aggregator.add(meshCall({ timeMs: OLD + 60 * MINUTE }))), true);
  // Another file an hour older is not late for having been read after the first one.
  assert.equal(aggregator.withAdmission(older, () => aggregator.add(meshCall({ timeMs: OLD }))), true);
  const first = serviceCallsByMinute(aggregator.drain(NOW).metrics);
  assert.equal(aggregator.withAdmission(older, () => aggregator.add(meshCall({ timeMs: OLD + 1_000 }))), true);
  assert.deepEqual([first, serviceCallsByMinute(aggregator.drain(NOW).metrics)], [{ "+0m": 1, "+60m": 1 }, { "+0m": 1 }]);
  assert.equal(older.covered()?.fromMs, OLD);
  assert.equal(newer.covered()?.fromMs, OLD + 60 * MINUTE);
});
