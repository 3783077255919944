import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readAnalysisWindow } from "../../../analyzer/health/analysis-window.ts";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { metricRow } from "../../conformance/storage/fixtures.ts";

const MINUTE_MS = 60_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0);
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

function relation(source: string, target: string, detectPoint: "client" | "server", minute: number, calls: number, errors: number): MinuteMetrics {
  return metricRow({ scope: "relation", service: source, name: target, detectPoint, component: "http", timeMs: T0 + minute * MINUTE_MS, calls, errors });
}

describe("analysis window over relations", () => {
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger: createLogger({ level: "silent" }) });
  before(async () => {
    await storage.start();
    await storage.writeMetrics([
      // Both proxies reported: rules read the callee's side, as the topology edge shows it.
      relation("productpage.default", "reviews.default", "server", 0, 5, 1),
      relation("productpage.default", "reviews.default", "client", 0, 6, 2),
      // Minute 1 only the caller saw calls (the callee's proxy logged nothing): the pair has a server side
      // in the window, so that minute reads as no calls, exactly as the edge and the series read it.
      relation("productpage.default", "reviews.default", "client", 1, 4, 4),
      // Only the caller reported this pair: its side is all there is.
      relation("reviews.default", "mysqldb.default", "client", 1, 3, 1),
    ]);
  });
  after(() => storage.close());

  it("keeps one side per pair: the server side when the callee reported, else the client side, never their sum", async () => {
    const window = await readAnalysisWindow(storage, { nowMs: T0 + MINUTE_MS + 30_000, minuteCount: 2, maxEntitiesPerScope: 10 });
    const byEntity = new Map(window.entities.relation.map((entity) => [entity.entity, entity]));
    assert.deepEqual([...byEntity.keys()].sort(), ["productpage.default to reviews.default", "reviews.default to mysqldb.default"]);
    const reviews = byEntity.get("productpage.default to reviews.default");
    assert.deepEqual(reviews?.minutes.map((slot) => slot && [slot.calls, slot.errors]), [[5, 1], undefined]);
    assert.equal(reviews.calls, 5);
    const mysql = byEntity.get("reviews.default to mysqldb.default");
    assert.deepEqual(mysql?.minutes.map((slot) => slot && [slot.calls, slot.errors]), [undefined, [3, 1]]);
    assert.equal(mysql.calls, 3);
  });
});
