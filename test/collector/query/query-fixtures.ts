/** Rows and an in-process query API for the query tests that run on both storages. */
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { queryRoutes } from "../../../collector/query/query-routes.ts";
import { QueryService } from "../../../collector/query/query-service.ts";
import { buildApp } from "../../../core/http/app.ts";
import type { MetricKey, MinuteMetrics } from "../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter, StorageReader } from "../../../core/storage/port.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";
import { histogramOf } from "../../conformance/storage/fixtures.ts";
import { clickHouseOnFreshDatabase } from "../../core/storage/clickhouse/helpers.ts";
import { useClickHouse } from "../../services/index.ts";

export const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
export const logger = createLogger({ level: "silent" });

export type Key = Partial<MetricKey> & Pick<MetricKey, "scope" | "service">;

/** `calls` calls of `latencyMs` each in the minute starting at `timeMs`, `errors` of them failed. */
export function callsIn(key: Key, timeMs: number, calls: number, errors: number, latencyMs: number): MinuteMetrics {
  return {
    name: "",
    detectPoint: "",
    component: "",
    ...key,
    timeMs,
    calls,
    errors,
    latencySumMs: calls * latencyMs,
    apdexSatisfied: calls,
    apdexTolerating: 0,
    bytesIn: calls,
    bytesOut: calls,
    histogram: histogramOf(new Array<number>(calls).fill(latencyMs)),
  };
}

export interface QueryApi {
  /** GETs `url`, asserts a 200 and returns the parsed body. */
  get: <T>(url: string) => Promise<T>;
  close: () => Promise<void>;
}

/** The query routes over `reader`, answering as if the time were `nowMs`, called in-process. */
export function queryApi(reader: StorageReader, nowMs: number): QueryApi {
  const app = buildApp({
    logger,
    registry: createMetricsRegistry({ version: "test", collectDefaults: false }),
    readinessChecks: [],
    bodyLimitBytes: 1 << 20,
    routes: [queryRoutes(new QueryService(reader), () => nowMs)],
  });
  return {
    get: async <T>(url: string): Promise<T> => {
      const response = await app.inject({ method: "GET", url });
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      return response.json<T>();
    },
    close: () => app.close(),
  };
}

type OpenStorage = () => Promise<{ storage: StorageAdapter; cleanup: () => Promise<void> }>;

const STORAGES: readonly [name: string, open: (prefix: string) => OpenStorage][] = [
  ["DuckDB", () => () => Promise.resolve({ storage: new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger }), cleanup: () => Promise.resolve() })],
  [
    "ClickHouse",
    (prefix) => async () => {
      const clickhouse = await useClickHouse();
      const { storage, cleanup } = clickHouseOnFreshDatabase(clickhouse.url, prefix, RETENTION, logger);
      return { storage, cleanup: () => cleanup().finally(() => clickhouse.stop()) };
    },
  ],
];

/**
 * A suite per storage (DuckDB, then a fresh database named after `prefix` on the test ClickHouse): `rows`
 * written, the query API served over them as at `nowMs`; `body` declares the tests, which read through `api`.
 */
export function describeOnBothStorages(title: string, prefix: string, rows: readonly MinuteMetrics[], nowMs: number, body: (api: Pick<QueryApi, "get">) => void): void {
  for (const [storageName, open] of STORAGES) {
    describe(`${title}, on ${storageName}`, () => {
      let opened: Awaited<ReturnType<OpenStorage>> | undefined;
      let api: QueryApi | undefined;
      before(async () => {
        opened = await open(prefix)();
        await opened.storage.start();
        await opened.storage.writeMetrics([...rows]);
        api = queryApi(opened.storage, nowMs);
      });
      after(async () => {
        await api?.close();
        await opened?.storage.close();
        await opened?.cleanup();
      });
      body({
        get: <T>(url: string): Promise<T> => {
          assert.ok(api, "the suite's storage is open");
          return api.get<T>(url);
        },
      });
    });
  }
}
