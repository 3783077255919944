import assert from "node:assert/strict";
import { it } from "node:test";
import type { EntityRecord } from "../../../core/model/dimensions.ts";
import type { SampledRecord } from "../../../core/model/sample.ts";
import { BASE_MS, entity, MINUTE, sample } from "./fixtures.ts";
import type { ConformanceContext } from "./suite.ts";

const byServiceAndName = (a: EntityRecord, b: EntityRecord): number => (a.service + "\u0000" + a.name < b.service + "\u0000" + b.name ? -1 : 1);

export function registerEntityAndSampleCases({ withStore }: ConformanceContext): void {
  void it("upserts entities: the latest lastSeenMs wins layer and last seen, attributes merge per key, whatever the write order", () =>
    withStore(async (storage) => {
      const first = entity({ service: "reviews.default", lastSeenMs: BASE_MS + 100, layer: "MESH", attributes: { version: "v1", "pod.ip": "10.0.0.7" } });
      const latest = entity({ service: "reviews.default", lastSeenMs: BASE_MS + 300, layer: "MESH_DP", attributes: { version: "v2", "istio.io/rev": "1-22", note: "ünïcødé 🦆" } });
      const stale = entity({ service: "reviews.default", lastSeenMs: BASE_MS + 200, layer: "GENERAL", attributes: { version: "stale" } });
      await storage.writeEntities([first]);
      await storage.writeEntities([latest]);
      await storage.writeEntities([stale]);
      assert.deepEqual(
        await storage.listEntities({ kind: "service", seenSinceMs: 0, limit: 10 }),
        [{ ...latest, attributes: { version: "v2", "pod.ip": "10.0.0.7", "istio.io/rev": "1-22", note: "ünïcødé 🦆" } }],
        "a late, older write wins nothing; a key only the first row had stays",
      );

      // Within one batch too, in either order.
      const older = entity({ kind: "instance", service: "ratings.default", name: "ratings-v1-x.default", lastSeenMs: BASE_MS + 10, attributes: { node: "n1", ip: "10.0.0.9" } });
      const newer = { ...older, lastSeenMs: BASE_MS + 20, attributes: { node: "n2", zone: "a" } };
      await storage.writeEntities([newer, older]);
      assert.deepEqual(await storage.listEntities({ kind: "instance", seenSinceMs: 0, limit: 10 }), [{ ...newer, attributes: { node: "n2", zone: "a", ip: "10.0.0.9" } }]);
    }));

  void it("a later entity row with fewer attributes never blanks the ones an earlier row reported", () =>
    withStore(async (storage) => {
      // The ALS stream describes the pod; a span-derived row for the same instance comes later with none.
      const fromAls = entity({ kind: "instance", service: "reviews.default", name: "reviews-v1-7d9f.default", lastSeenMs: BASE_MS + 1000, layer: "MESH", attributes: { "pod.ip": "10.0.0.7", node: "node-1", version: "v1" } });
      const fromSpans = { ...fromAls, lastSeenMs: BASE_MS + 5000, layer: "GENERAL" as const, attributes: {} };
      await storage.writeEntities([fromAls]);
      await storage.writeEntities([fromSpans]);
      const expected = [{ ...fromSpans, attributes: fromAls.attributes }];
      assert.deepEqual(await storage.listEntities({ kind: "instance", seenSinceMs: BASE_MS + 5000, limit: 10 }), expected, "separate batches");

      // One key's value is the latest row that carried that key, even when a newer row without it came first.
      const oldValue = entity({ kind: "instance", service: "ratings.default", name: "ratings-v1-x.default", lastSeenMs: BASE_MS + 100, attributes: { version: "v1" } });
      const blank = { ...oldValue, lastSeenMs: BASE_MS + 300, attributes: {} };
      const newerValue = { ...oldValue, lastSeenMs: BASE_MS + 200, attributes: { version: "v2" } };
      await storage.writeEntities([oldValue, blank]);
      await storage.writeEntities([newerValue]);
      assert.deepEqual(await storage.listEntities({ kind: "instance", service: "ratings.default", seenSinceMs: 0, limit: 10 }), [{ ...blank, attributes: { version: "v2" } }]);

      // Entities stay apart: another instance of the same service gets none of these keys.
      const other = entity({ kind: "instance", service: "reviews.default", name: "reviews-v2-a1b2.default", lastSeenMs: BASE_MS + 6000, attributes: {} });
      await storage.writeEntities([other]);
      assert.deepEqual(await storage.listEntities({ kind: "instance", service: "reviews.default", seenSinceMs: 0, limit: 10 }), [...expected, other]);
    }));

  void it("lists entities by kind, service and last-seen time, up to the limit", () =>
    withStore(async (storage) => {
      const rows = [
        entity({ service: "a.default", lastSeenMs: BASE_MS + 1000 }),
        entity({ service: "b.default", lastSeenMs: BASE_MS + 2000 }),
        entity({ kind: "endpoint", service: "a.default", name: "GET:/x", lastSeenMs: BASE_MS + 1000, layer: "MESH" }),
        entity({ kind: "endpoint", service: "a.default", name: "GET:/y", lastSeenMs: BASE_MS + 3000 }),
        entity({ kind: "endpoint", service: "b.default", name: "GET:/x", lastSeenMs: BASE_MS + 3000 }),
        entity({ kind: "instance", service: "a.default", name: "a-1.default", lastSeenMs: BASE_MS, attributes: { ip: "10.1.1.1" } }),
      ];
      await storage.writeEntities(rows);
      const list = async (query: Parameters<typeof storage.listEntities>[0]): Promise<EntityRecord[]> => (await storage.listEntities(query)).sort(byServiceAndName);
      assert.deepEqual(await list({ kind: "service", seenSinceMs: 0, limit: 10 }), [rows[0], rows[1]]);
      assert.deepEqual(await list({ kind: "service", seenSinceMs: BASE_MS + 2000, limit: 10 }), [rows[1]], "seenSinceMs is inclusive");
      assert.deepEqual(await list({ kind: "service", seenSinceMs: BASE_MS + 2001, limit: 10 }), []);
      assert.deepEqual(await list({ kind: "endpoint", service: "a.default", seenSinceMs: 0, limit: 10 }), [rows[2], rows[3]]);
      assert.deepEqual(await list({ kind: "endpoint", service: "a.default", seenSinceMs: BASE_MS + 2000, limit: 10 }), [rows[3]]);
      assert.deepEqual(await list({ kind: "instance", seenSinceMs: 0, limit: 10 }), [rows[5]]);
      assert.equal((await storage.listEntities({ kind: "endpoint", seenSinceMs: 0, limit: 2 })).length, 2, "limit");
      assert.deepEqual(await list({ kind: "endpoint", service: "nobody.default", seenSinceMs: 0, limit: 10 }), []);
    }));

  void it("stores samples and reads them newest first, filtered by range, service, endpoint, errors and trace", () =>
    withStore(async (storage) => {
      const rows: SampledRecord[] = [];
      for (let i = 0; i < 12; i++) {
        const isError = i % 3 === 0;
        rows.push(
          sample({
            timeMs: BASE_MS + i * MINUTE,
            service: i % 2 === 0 ? "reviews.default" : "ratings.default",
            endpoint: i % 4 < 2 ? "GET:/reviews/{id}" : "POST:/ratings",
            detectPoint: i % 5 === 0 ? "client" : "server",
            isError,
            responseCode: isError ? 503 : 200,
            responseFlags: isError ? "UF,URX" : "-",
            reason: isError ? "error" : i === 5 ? "slow" : "uniform",
            latencyMs: 0.25 + i * 10.5,
            traceId: i === 7 || i === 8 ? "shared-trace" : `trace-${i}`,
            raw: JSON.stringify({ line: i, path: `/reviews/${i}?q='x'` }),
          }),
        );
      }
      await storage.writeSamples(rows.slice(0, 5));
      await storage.writeSamples(rows.slice(5));
      const newestFirst = (picked: SampledRecord[]): SampledRecord[] => [...picked].sort((a, b) => b.timeMs - a.timeMs);
      const all = { fromMs: BASE_MS, toMs: BASE_MS + 12 * MINUTE, limit: 100 };
      assert.deepEqual(await storage.querySamples(all), newestFirst(rows), "every field round-trips, newest first");
      assert.deepEqual(await storage.querySamples({ ...all, limit: 3 }), newestFirst(rows).slice(0, 3), "limit keeps the newest");
      assert.deepEqual(await storage.querySamples({ ...all, fromMs: BASE_MS + 2 * MINUTE, toMs: BASE_MS + 4 * MINUTE }), newestFirst(rows.slice(2, 4)), "[from, to)");
      assert.deepEqual(await storage.querySamples({ ...all, onlyErrors: true }), newestFirst(rows.filter((row) => row.isError)));
      assert.deepEqual(await storage.querySamples({ ...all, onlyErrors: false }), newestFirst(rows), "onlyErrors false means all");
      assert.deepEqual(await storage.querySamples({ ...all, traceId: "shared-trace" }), newestFirst([rows[7], rows[8]].filter((row) => row !== undefined)));
      assert.deepEqual(
        await storage.querySamples({ ...all, service: "reviews.default", endpoint: "POST:/ratings" }),
        newestFirst(rows.filter((row) => row.service === "reviews.default" && row.endpoint === "POST:/ratings")),
      );
      assert.deepEqual(await storage.querySamples({ ...all, service: "reviews.default", onlyErrors: true, limit: 1 }), [rows[6]]);
      assert.deepEqual(await storage.querySamples({ ...all, traceId: "no-such-trace" }), []);
    }));
}
