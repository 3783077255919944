import assert from "node:assert/strict";
import { it } from "node:test";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { assertAggregatesEqual, BASE_MS, entity, expectedMetrics, HOUR, HOSTILE_NAMES, metricRow, MINUTE, sample } from "./fixtures.ts";
import type { ConformanceContext } from "./suite.ts";

const CONTROL = "control.default";

export function registerHostileNameCases({ withStore }: ConformanceContext): void {
  void it("round-trips hostile names exactly (unicode, quotes, backslashes, SQL, 10 kB) and nothing is injected", () =>
    withStore(async (storage) => {
      const metrics: MinuteMetrics[] = [metricRow({ timeMs: BASE_MS, service: CONTROL }), metricRow({ timeMs: BASE_MS, scope: "endpoint", service: CONTROL, name: "GET:/" })];
      HOSTILE_NAMES.forEach((name, index) => {
        const timeMs = BASE_MS + index * MINUTE;
        metrics.push(metricRow({ timeMs, service: name, calls: index + 1 }));
        metrics.push(metricRow({ timeMs, scope: "endpoint", service: name, name, calls: index + 1 }));
        metrics.push(metricRow({ timeMs, scope: "relation", service: CONTROL, name, detectPoint: "client", component: "grpc", calls: index + 1 }));
      });
      await storage.writeMetrics(metrics);
      await storage.writeEntities([entity({ service: CONTROL, lastSeenMs: BASE_MS }), ...HOSTILE_NAMES.map((name) => entity({ kind: "endpoint", service: name, name, lastSeenMs: BASE_MS, attributes: { [name]: name } }))]);
      await storage.writeSamples(HOSTILE_NAMES.map((name, index) => sample({ timeMs: BASE_MS + index, service: name, endpoint: name, traceId: name, requestId: name, raw: name, responseFlags: name })));

      const range = { fromMs: BASE_MS, toMs: BASE_MS + HOUR, resolution: "minute", groupByTime: false } as const;
      for (const name of HOSTILE_NAMES) {
        const label = JSON.stringify(name.slice(0, 40));
        for (const asked of [
          { ...range, scope: "service", service: name },
          { ...range, scope: "endpoint", service: name, name },
          { ...range, scope: "relation", service: CONTROL, name, detectPoint: "client" },
        ] as const) {
          const found = await storage.queryMetrics(asked);
          assert.equal(found.length, 1, `${label} ${asked.scope}: exactly its own row`);
          assertAggregatesEqual(found, expectedMetrics(metrics, asked), `${label} ${asked.scope}`);
        }
        const [top, ...others] = await storage.topN({ ...range, scope: "endpoint", service: name, orderBy: "calls", limit: 5 });
        assert.equal(top?.name, name, `${label} topN`);
        assert.equal(others.length, 0);
        assert.deepEqual(
          await storage.listEntities({ kind: "endpoint", service: name, seenSinceMs: 0, limit: 5 }),
          [entity({ kind: "endpoint", service: name, name, lastSeenMs: BASE_MS, attributes: { [name]: name } })],
          `${label} entity`,
        );
        const samples = await storage.querySamples({ fromMs: BASE_MS, toMs: BASE_MS + HOUR, service: name, endpoint: name, traceId: name, limit: 5 });
        assert.equal(samples.length, 1, `${label} sample`);
        assert.deepEqual([samples[0]?.service, samples[0]?.endpoint, samples[0]?.raw, samples[0]?.responseFlags], [name, name, name, name]);
      }

      // Every table is still there and still answers for data written around the hostile names.
      const services = await storage.queryMetrics({ ...range, scope: "service" });
      assert.equal(services.length, HOSTILE_NAMES.length + 1, "every service row survived");
      assert.deepEqual(
        services.map((row) => row.service).sort(),
        [...HOSTILE_NAMES, CONTROL].sort(),
      );
      assert.equal((await storage.queryMetrics({ ...range, scope: "endpoint", service: CONTROL })).length, 1);
      assert.equal((await storage.listEntities({ kind: "service", seenSinceMs: 0, limit: 5 })).length, 1);
      assert.equal((await storage.querySamples({ fromMs: BASE_MS, toMs: BASE_MS + HOUR, limit: 100 })).length, HOSTILE_NAMES.length);
      assert.equal(await storage.ping(), true);
    }));
}
