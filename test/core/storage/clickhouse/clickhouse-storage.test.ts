import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import { percentileMs } from "../../../../core/model/histogram.ts";
import type { SampledRecord } from "../../../../core/model/sample.ts";
import { ClickHouseStorage } from "../../../../core/storage/clickhouse/clickhouse-storage.ts";
import { InvalidStorageRowError, toMetricsRow } from "../../../../core/storage/clickhouse/rows.ts";
import { StorageUnavailableError } from "../../../../core/storage/port.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import { Registry } from "prom-client";
import { freePort, useClickHouse, type RunningService } from "../../../services/index.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { capturingLogger, freshDatabaseName, minuteRow, RETENTION, rawClient, rawSelect } from "./helpers.ts";

const T0 = Date.UTC(2026, 10, 23, 10, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;

void describe("an unreachable server", () => {
  void test("start() throws one StorageUnavailableError naming the URL and the cause; ping() is false", async () => {
    const port = await freePort();
    const { logger, lines } = capturingLogger("info");
    const storage = new ClickHouseStorage({ url: `http://meshsight:s3cret@127.0.0.1:${port}`, database: "meshsight", retention: RETENTION, logger });
    await assert.rejects(storage.start(), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.match(error.message, new RegExp(`ClickHouse at http://meshsight:\\*\\*\\*@127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`));
      assert.doesNotMatch(error.message, /s3cret/);
      assert.ok(error.cause instanceof Error);
      return true;
    });
    assert.equal(await storage.ping(), false);
    assert.deepEqual(lines, [], "the client's own error lines stay at debug");
    await assert.rejects(storage.writeMetrics([minuteRow()]), (error: unknown) => error instanceof StorageUnavailableError && /is not started/.test(error.message));
    await storage.close();
  });

  void test("bad options fail at construction", () => {
    const { logger } = capturingLogger();
    assert.throws(() => new ClickHouseStorage({ url: "http://127.0.0.1:1", database: "a-b", retention: RETENTION, logger }), /invalid identifier/);
    assert.throws(
      () => new ClickHouseStorage({ url: "http://127.0.0.1:1", database: "ok", retention: { ...RETENTION, minuteDays: 0 }, logger }),
      /retention.minuteDays/,
    );
  });
});

void describe("ClickHouseStorage on a real server", () => {
  let service: RunningService;
  let client: ClickHouseClient;
  let storage: ClickHouseStorage;
  const database = freshDatabaseName();

  before(async () => {
    service = await useClickHouse();
    client = rawClient(service.url);
    storage = new ClickHouseStorage({ url: service.url, database, retention: RETENTION, logger: capturingLogger().logger });
    await storage.start();
  });
  after(async () => {
    await storage.close();
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
    await service.stop();
  });

  void test("detects the server's capabilities and answers ping", async () => {
    const capabilities = storage.capabilities;
    assert.ok(capabilities);
    const [{ version } = { version: "" }] = await rawSelect<{ version: string }>(client, "SELECT version() AS version");
    assert.equal(capabilities.version.text, version);
    if (version.startsWith("18.")) assert.equal(capabilities.queryParameters, false);
    assert.equal(await storage.ping(), true);
    await storage.start(); // idempotent
  });

  void test("rows of one key and minute sum, histograms by bucket, before and after merges", async () => {
    const key = { service: "sum.default", timeMs: T0 + 17_000 }; // not minute-aligned: floored to T0
    await storage.writeMetrics([minuteRow({ ...key, histogram: { buckets: [120, 100], counts: [3, 7] } })]);
    await storage.writeMetrics([minuteRow({ ...key, calls: 5, errors: 0, latencySumMs: 50, histogram: { buckets: [100, 130], counts: [4, 1] } })]);
    const query = { scope: "service", fromMs: T0, toMs: T0 + MINUTE, resolution: "minute", service: "sum.default", groupByTime: true } as const;
    const expected = {
      scope: "service",
      service: "sum.default",
      name: "",
      detectPoint: "",
      component: "",
      timeMs: T0,
      calls: 15,
      errors: 1,
      latencySumMs: 300,
      apdexSatisfied: 18,
      apdexTolerating: 2,
      bytesIn: 2000,
      bytesOut: 4000,
      histogram: { buckets: [100, 120, 130], counts: [11, 3, 1] },
    };
    assert.deepEqual(await storage.queryMetrics(query), [expected]);
    await client.command({ query: `OPTIMIZE TABLE ${database}.metrics_minute FINAL` });
    const [{ rows } = { rows: -1 }] = await rawSelect<{ rows: number }>(client, `SELECT count() AS rows FROM ${database}.metrics_minute WHERE service = 'sum.default'`);
    assert.equal(rows, 1, "SummingMergeTree merged the two rows");
    assert.deepEqual(await storage.queryMetrics(query), [expected]);
  });

  void test("a metric write's id is found after its rows merged with another write's; the sums stay right", async () => {
    const key = { service: "ids.default", timeMs: T0 };
    await storage.writeMetrics([minuteRow(key)], 41);
    await storage.writeMetrics([minuteRow({ ...key, calls: 5 })], 42);
    await storage.writeMetrics([minuteRow({ ...key, calls: 1 })]);
    await client.command({ query: `OPTIMIZE TABLE ${database}.metrics_minute FINAL` });
    const [{ rows } = { rows: -1 }] = await rawSelect<{ rows: number }>(client, `SELECT count() AS rows FROM ${database}.metrics_minute WHERE service = 'ids.default'`);
    assert.equal(rows, 1, "SummingMergeTree merged the three rows");
    assert.deepEqual([await storage.isMetricWriteStored(41, T0), await storage.isMetricWriteStored(42, T0), await storage.isMetricWriteStored(43, T0)], [true, true, false]);
    assert.equal(await storage.isMetricWriteStored(41, T0 + 86_400_000), false, "looked for in the write's day only");
    const [total] = await storage.queryMetrics({ scope: "service", fromMs: T0, toMs: T0 + MINUTE, resolution: "minute", service: "ids.default", groupByTime: false });
    assert.equal(total?.calls, 16);
  });

  void test("series group by time bucket; totals use the range start; hour and day read the rollups", async () => {
    const service = "series.default";
    await storage.writeMetrics([
      minuteRow({ service, timeMs: T0, calls: 1 }),
      minuteRow({ service, timeMs: T0 + MINUTE, calls: 2 }),
      minuteRow({ service, timeMs: T0 + HOUR, calls: 4 }),
      minuteRow({ service, timeMs: T0 - 9 * HOUR, calls: 8 }), // 01:00, the same UTC day
    ]);
    const base = { scope: "service", service } as const;
    const minuteSeries = await storage.queryMetrics({ ...base, fromMs: T0, toMs: T0 + 2 * HOUR, resolution: "minute", groupByTime: true });
    assert.deepEqual(minuteSeries.map((point) => [point.timeMs, point.calls]), [[T0, 1], [T0 + MINUTE, 2], [T0 + HOUR, 4]]);
    const total = await storage.queryMetrics({ ...base, fromMs: T0, toMs: T0 + 2 * HOUR, resolution: "minute", groupByTime: false });
    assert.deepEqual(total.map((row) => [row.timeMs, row.calls]), [[T0, 7]]);
    const hours = await storage.queryMetrics({ ...base, fromMs: T0, toMs: T0 + 2 * HOUR, resolution: "hour", groupByTime: true });
    assert.deepEqual(hours.map((point) => [point.timeMs, point.calls]), [[T0, 3], [T0 + HOUR, 4]]);
    const dayStart = Date.UTC(2026, 10, 23);
    const days = await storage.queryMetrics({ ...base, fromMs: dayStart, toMs: dayStart + 86_400_000, resolution: "day", groupByTime: true });
    assert.deepEqual(days.map((point) => [point.timeMs, point.calls]), [[dayStart, 15]]);
    assert.equal(percentileMs(days[0]?.histogram ?? { buckets: [], counts: [] }, 0.5) > 0, true);
    const halfOpen = await storage.queryMetrics({ ...base, fromMs: T0 + 1, toMs: T0 + HOUR, resolution: "minute", groupByTime: false });
    assert.deepEqual(halfOpen.map((row) => row.calls), [2], "[from, to) excludes T0 (before from) and T0 + 1h (at to)");
  });

  void test("relation filters and topN order with ties by service then name", async () => {
    const relation = { scope: "relation", component: "http", timeMs: T0 } as const;
    await storage.writeMetrics([
      minuteRow({ ...relation, service: "a.ns", name: "b.ns", detectPoint: "client", calls: 10, errors: 5, latencySumMs: 100 }),
      minuteRow({ ...relation, service: "a.ns", name: "b.ns", detectPoint: "server", calls: 9, errors: 1, latencySumMs: 900 }),
      minuteRow({ ...relation, service: "c.ns", name: "a.ns", detectPoint: "server", calls: 10, errors: 0, latencySumMs: 10 }),
    ]);
    const range = { scope: "relation", fromMs: T0, toMs: T0 + MINUTE, resolution: "minute" } as const;
    const servers = await storage.queryMetrics({ ...range, detectPoint: "server", groupByTime: false });
    assert.deepEqual(servers.map((row) => `${row.service}->${row.name}/${row.detectPoint}/${row.component}`), ["a.ns->b.ns/server/http", "c.ns->a.ns/server/http"]);
    const byCalls = await storage.topN({ ...range, orderBy: "calls", limit: 10 });
    assert.deepEqual(byCalls.map((row) => `${row.service}/${row.detectPoint}:${row.calls}`), ["a.ns/client:10", "c.ns/server:10", "a.ns/server:9"]);
    const byLatency = await storage.topN({ ...range, orderBy: "latency_avg", limit: 1 });
    assert.deepEqual(byLatency.map((row) => `${row.service}/${row.detectPoint}`), ["a.ns/server"]);
    const byErrors = await storage.topN({ ...range, service: "c.ns", orderBy: "errors", limit: 5 });
    assert.deepEqual(byErrors.map((row) => row.errors), [0]);
    await assert.rejects(storage.topN({ ...range, orderBy: "calls", limit: -1 }), RangeError);
  });

  void test("entities: the latest row wins, read before any merge", async () => {
    const entity = { kind: "instance", service: "ent.default", name: "pod-1.default", layer: "MESH" } as const;
    await storage.writeEntities([{ ...entity, attributes: { ip: "10.0.0.2" }, lastSeenMs: T0 + 5 * MINUTE }]);
    await storage.writeEntities([{ ...entity, attributes: { ip: "10.0.0.1" }, lastSeenMs: T0 }]); // older, written later
    await storage.writeEntities([{ ...entity, name: "pod-0.default", attributes: {}, lastSeenMs: T0 - HOUR }]);
    const recent = await storage.listEntities({ kind: "instance", service: "ent.default", seenSinceMs: T0, limit: 10 });
    assert.deepEqual(recent, [{ ...entity, attributes: { ip: "10.0.0.2" }, lastSeenMs: T0 + 5 * MINUTE }]);
    const all = await storage.listEntities({ kind: "instance", service: "ent.default", seenSinceMs: 0, limit: 10 });
    assert.deepEqual(all.map((row) => row.name), ["pod-0.default", "pod-1.default"]);
    assert.deepEqual(await storage.listEntities({ kind: "service", service: "ent.default", seenSinceMs: 0, limit: 10 }), []);
  });

  void test("entities: attributes an earlier row reported survive a later row without them, also after merges", async () => {
    const instance = { kind: "instance", service: "merge.default", name: "pod-1.default" } as const;
    await storage.writeEntities([{ ...instance, layer: "MESH", attributes: { "pod.ip": "10.0.0.7", node: "n1" }, lastSeenMs: T0 }]);
    await storage.writeEntities([{ ...instance, layer: "GENERAL", attributes: {}, lastSeenMs: T0 + MINUTE }]);
    await storage.writeEntities([{ ...instance, layer: "GENERAL", attributes: { node: "n2" }, lastSeenMs: T0 + 2 * MINUTE }]);
    const expected = [{ ...instance, layer: "GENERAL", attributes: { "pod.ip": "10.0.0.7", node: "n2" }, lastSeenMs: T0 + 2 * MINUTE }];
    assert.deepEqual(await storage.listEntities({ kind: "instance", service: "merge.default", seenSinceMs: 0, limit: 10 }), expected, "before merges");
    // ReplacingMergeTree keeps one row per sorting key once merged: the entity row's own attributes are
    // then the latest row's only, so the merged view must come from the per-key table.
    // OPTIMIZE is not guaranteed to merge at once (a busy server may postpone it): ask until it has.
    const entityRows = async (): Promise<string> =>
      (await rawSelect<{ rows: string }>(client, `SELECT toString(count()) AS rows FROM ${database}.entities WHERE service = 'merge.default'`))[0]?.rows ?? "";
    await waitFor(async () => {
      await client.command({ query: `OPTIMIZE TABLE ${database}.entities FINAL` });
      await client.command({ query: `OPTIMIZE TABLE ${database}.entity_attributes FINAL` });
      return (await entityRows()) === "1";
    }, "the merge to run");
    assert.deepEqual(await storage.listEntities({ kind: "instance", service: "merge.default", seenSinceMs: 0, limit: 10 }), expected, "after merges");
  });

  void test("samples keep milliseconds, filter, and come newest first", async () => {
    const sample = (timeMs: number, overrides: Partial<SampledRecord> = {}): SampledRecord => ({
      timeMs,
      service: "smp.default",
      instance: "pod.default",
      endpoint: "GET:/a",
      detectPoint: "server",
      peerService: "caller.default",
      responseCode: 200,
      responseFlags: "",
      isError: false,
      latencyMs: 12.5,
      reason: "uniform",
      requestId: `req-${timeMs}`,
      traceId: "",
      raw: '{"path":"/a?q=it\'s \\\\ fine"}',
      ...overrides,
    });
    await storage.writeSamples([
      sample(T0 + 1),
      sample(T0 + 999, { isError: true, responseCode: 503, responseFlags: "UF", reason: "error", traceId: "abc" }),
      sample(T0 + 1000, { endpoint: "GET:/b" }),
    ]);
    const range = { fromMs: T0 + 1, toMs: T0 + 1000, limit: 10 };
    assert.deepEqual((await storage.querySamples(range)).map((row) => row.timeMs), [T0 + 999, T0 + 1]);
    const errors = await storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 10, onlyErrors: true });
    assert.deepEqual(errors, [sample(T0 + 999, { isError: true, responseCode: 503, responseFlags: "UF", reason: "error", traceId: "abc" })]);
    assert.equal((await storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 10, traceId: "abc" })).length, 1);
    assert.equal((await storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 10, endpoint: "GET:/b" }))[0]?.timeMs, T0 + 1000);
    assert.equal((await storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 1 })).length, 1);
  });

  void test("hostile filter values are values, not SQL", async () => {
    const hostile = "x' OR '1'='1";
    await storage.writeEntities([{ kind: "service", service: hostile, name: "", layer: "MESH", attributes: { note: "\\'\n\0" }, lastSeenMs: T0 }]);
    const rows = await storage.listEntities({ kind: "service", service: hostile, seenSinceMs: 0, limit: 10 });
    assert.deepEqual(rows.map((row) => [row.service, row.attributes]), [[hostile, { note: "\\'\n\0" }]]);
    assert.deepEqual(await storage.querySamples({ fromMs: 0, toMs: T0 + HOUR, service: hostile, limit: 10 }), []);
  });

  void test("an invalid row is refused and counted; the valid rows of its batch are written", async () => {
    const registry = new Registry();
    const rejects = new RejectCounter(registry, capturingLogger().logger);
    const checked = new ClickHouseStorage({ url: service.url, database, retention: RETENTION, logger: capturingLogger().logger, rejects });
    await checked.start();
    const good = minuteRow({ service: "bad.default" });
    const cases: Array<[string, Parameters<ClickHouseStorage["writeMetrics"]>[0]]> = [
      ["calls", [good, minuteRow({ service: "bad.default", calls: -1 })]],
      ["latencySumMs", [good, minuteRow({ service: "bad.default", latencySumMs: Number.NaN })]],
      ["histogram.buckets", [good, minuteRow({ service: "bad.default", histogram: { buckets: [256], counts: [1] } })]],
      ["histogram", [good, minuteRow({ service: "bad.default", histogram: { buckets: [1, 2], counts: [1] } })]],
      ["timeMs", [good, minuteRow({ service: "bad.default", timeMs: Number.POSITIVE_INFINITY })]],
    ];
    for (const [, rows] of cases) await checked.writeMetrics(rows);
    await checked.close();
    const counted = await registry.getSingleMetricAsString("meshsight_rejected_total");
    assert.match(counted, /meshsight_rejected_total\{source="storage.clickhouse",reason="invalid_metric_row"\} 5/);
    const found = await storage.queryMetrics({ scope: "service", service: "bad.default", fromMs: 0, toMs: T0 + HOUR, resolution: "minute", groupByTime: false });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.calls, good.calls * cases.length);
  });

  void test("invalid rows name the row and field that is wrong", () => {
    assert.throws(() => toMetricsRow(minuteRow({ calls: -1 }), 3), (error: unknown) => {
      assert.ok(error instanceof InvalidStorageRowError);
      assert.match(error.message, /^metrics row 3: calls is invalid/);
      return true;
    });
  });
});
