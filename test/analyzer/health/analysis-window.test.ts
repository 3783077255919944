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
      // Both proxies reported: rules read the caller's side, which also saw the failures the callee never logged.
      relation("productpage.default", "reviews.default", "server", 0, 5, 1),
      relation("productpage.default", "reviews.default", "client", 0, 6, 2),
      // Minute 1 only the caller saw calls (a callee pod down logs nothing): those failures count.
      relation("productpage.default", "reviews.default", "client", 1, 4, 4),
      // Only the caller reported this pair: its side is all there is.
      relation("reviews.default", "mysqldb.default", "client", 1, 3, 1),
      // Only the callee reported this pair (a caller without a proxy): its side stands in.
      relation("UNKNOWN", "istio-ingressgateway.istio-system", "server", 1, 7, 0),
    ]);
  });
  after(() => storage.close());

  it("keeps one side per pair: the caller's when it reported, else the callee's, never their sum", async () => {
    const window = await readAnalysisWindow(storage, { nowMs: T0 + MINUTE_MS + 30_000, minuteCount: 2, maxEntitiesPerScope: 10 });
    const byEntity = new Map(window.entities.relation.map((entity) => [entity.entity, entity]));
    assert.deepEqual([...byEntity.keys()].sort(), ["UNKNOWN to istio-ingressgateway.istio-system", "productpage.default to reviews.default", "reviews.default to mysqldb.default"]);
    const reviews = byEntity.get("productpage.default to reviews.default");
    assert.deepEqual(reviews?.minutes.map((slot) => slot && [slot.calls, slot.errors]), [[6, 2], [4, 4]]);
    assert.equal(reviews.calls, 10);
    const gateway = byEntity.get("UNKNOWN to istio-ingressgateway.istio-system");
    assert.deepEqual(gateway?.minutes.map((slot) => slot && [slot.calls, slot.errors]), [undefined, [7, 0]]);
    assert.equal(gateway.calls, 7);
    const mysql = byEntity.get("reviews.default to mysqldb.default");
    assert.deepEqual(mysql?.minutes.map((slot) => slot && [slot.calls, slot.errors]), [undefined, [3, 1]]);
    assert.equal(mysql.calls, 3);
  });
});
