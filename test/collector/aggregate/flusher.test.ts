import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import { Flusher, type FlusherOptions } from "../../../collector/aggregate/flusher.ts";
import { MinuteAggregator } from "../../../collector/aggregate/minute-aggregator.ts";
import { Sampler } from "../../../collector/aggregate/sampler.ts";
import { DrainJournal } from "../../../collector/wal/drain-journal.ts";
import type { EntityRecord } from "../../../core/model/dimensions.ts";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { PartialWriteError, PermanentWriteError, type StorageWriter } from "../../../core/storage/port.ts";
import { meshCall, telemetry, type Telemetry } from "./fixtures.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };

interface Rig {
  flusher: Flusher;
  aggregator: MinuteAggregator;
  sampler: Sampler;
  storage: DuckDbStorage;
  telemetry: Telemetry;
  clock: { nowMs: number };
  written(kind: string): Promise<number>;
}

/**
 * A flusher over real components and a real (in-memory) DuckDB, NOT started: writes fail until start().
 * `inFront` puts a writer between the flusher and storage, to fail the way a test needs.
 */
function rig(options: Partial<FlusherOptions> = {}, inFront?: (storage: DuckDbStorage) => StorageWriter): Rig {
  const t = telemetry();
  const clock = { nowMs: T0 + 30_000 };
  const logger = pino({ level: "silent" });
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => clock.nowMs });
  // No uniform sample: the tests count exactly the error samples they cause.
  const sampler = new Sampler({ registry: t.registry, clock: () => clock.nowMs, uniformRate: 0 });
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  const flusher = new Flusher({
    aggregator,
    sampler,
    writer: inFront?.(storage) ?? storage,
    registry: t.registry,
    rejects: t.rejects,
    logger,
    initialBackoffMs: 1_000,
    stopAttempts: 2,
    clock: () => clock.nowMs,
    ...options,
  });
  return {
    flusher,
    aggregator,
    sampler,
    storage,
    telemetry: t,
    clock,
    async written(kind) {
      const metric = await t.registry.getSingleMetric("meshsight_flush_rows_written_total")?.get();
      return metric?.values.find((value) => value.labels.kind === kind)?.value ?? 0;
    },
  };
}

async function serviceCalls(storage: DuckDbStorage, service: string): Promise<number> {
  const rows = await storage.queryMetrics({ scope: "service", fromMs: T0 - 60 * MINUTE, toMs: T0 + 600 * MINUTE, resolution: "minute", service, groupByTime: false });
  return rows.reduce((sum, row) => sum + row.calls, 0);
}

void test("minutes (open ones as partial sums), entities and samples reach storage, each call once", async () => {
  const r = rig();
  await r.storage.start();
  try {
    for (let i = 0; i < 10; i++) {
      const call = meshCall({ timeMs: T0 + i * 1000, isError: i === 0 });
      r.aggregator.add(call);
      r.sampler.offer(call, { i });
    }
    await r.flusher.flush();
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 10, "the open minute is visible at once");
    assert.equal(await r.written("samples"), 1, "samples do not wait for minutes to close");
    for (let i = 10; i < 15; i++) r.aggregator.add(meshCall({ timeMs: T0 + i * 1000 }));
    r.clock.nowMs = T0 + 3 * MINUTE;
    await r.flusher.flush();
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 15, "the partial sums add up to every call once");
    const entities = await r.storage.listEntities({ kind: "endpoint", seenSinceMs: 0, limit: 10 });
    assert.deepEqual(entities.map((e) => `${e.service} ${e.name}`), ["reviews.default GET:/reviews/{id}"]);
    const samples = await r.storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 10 });
    assert.equal(samples.length, 1);
    assert.equal(samples[0]?.reason, "error");
    assert.equal(r.flusher.pendingRows, 0);
  } finally {
    await r.storage.close();
  }
});

void test("a requested flush drains without waiting for the timer, and requests while it runs add no flush", async () => {
  const r = rig();
  await r.storage.start();
  try {
    r.aggregator.add(meshCall({ timeMs: T0 }));
    r.flusher.requestFlush();
    r.flusher.requestFlush();
    r.flusher.requestFlush();
    await r.flusher.flush(); // queued behind the requested one: resolves once both ran
    const exposition = await r.telemetry.registry.getSingleMetricAsString("meshsight_flush_duration_seconds");
    assert.match(exposition, /^meshsight_flush_duration_seconds_count 2$/m);
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 1);
  } finally {
    await r.storage.close();
  }
});

void test("a failing storage keeps the rows and retries with backoff until it works", async () => {
  const r = rig({ batchRows: 2 });
  try {
    for (let i = 0; i < 5; i++) r.aggregator.add(meshCall({ timeMs: T0 + i * 1000, endpoint: `GET:/e${i}` }));
    r.clock.nowMs = T0 + 3 * MINUTE;
    await r.flusher.flush(); // storage not started: StorageUnavailableError
    const pending = r.flusher.pendingRows;
    assert.ok(pending > 0);
    await r.storage.start();
    await r.flusher.flush();
    assert.equal(r.flusher.pendingRows, pending, "no attempt before the backoff has passed");
    r.clock.nowMs += 1_000;
    await r.flusher.flush();
    assert.equal(r.flusher.pendingRows, 0);
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 5);
    assert.equal(await r.written("metrics"), pending - (await r.written("entities")));
    const failures = await r.telemetry.registry.getSingleMetric("meshsight_flush_failures_total")?.get();
    assert.equal(failures?.values[0]?.value, 1);
  } finally {
    await r.storage.close();
  }
});

void test("after a partial write only the unwritten rows are retried: every call is stored once", async () => {
  let firstBatch = 0;
  // Storage took the first two rows, then lost its connection (what the write guard reports mid-split).
  const r = rig({}, (storage) =>
    Object.assign(Object.create(storage) as DuckDbStorage, {
      writeMetrics: async (rows: readonly MinuteMetrics[]) => {
        if (firstBatch > 0) return storage.writeMetrics(rows);
        firstBatch = rows.length;
        await storage.writeMetrics(rows.slice(0, 2));
        throw new PartialWriteError("connection lost", rows.slice(2));
      },
    }),
  );
  await r.storage.start();
  try {
    for (let i = 0; i < 5; i++) r.aggregator.add(meshCall({ timeMs: T0 + i * 1000, endpoint: `GET:/e${i}` }));
    r.clock.nowMs = T0 + 3 * MINUTE;
    await r.flusher.flush();
    assert.equal(await r.written("metrics"), 2, "the two stored rows left the retry buffer");
    r.clock.nowMs += 1_000;
    await r.flusher.flush();
    assert.equal(r.flusher.pendingRows, 0);
    assert.equal(await r.written("metrics"), firstBatch);
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 5, "no row stored twice");
    const endpoints = await r.storage.queryMetrics({ scope: "endpoint", fromMs: T0, toMs: T0 + MINUTE, resolution: "minute", groupByTime: false });
    assert.deepEqual(endpoints.map((row) => row.calls), [1, 1, 1, 1, 1]);
  } finally {
    await r.storage.close();
  }
});

void test("a permanent failure drops its batch at once, counted, and the batches behind it are written without waiting", async () => {
  let refusedRows = 0;
  const r = rig({}, (storage) =>
    Object.assign(Object.create(storage) as DuckDbStorage, {
      writeEntities: (rows: readonly EntityRecord[]) => {
        refusedRows += rows.length;
        return Promise.reject(new PermanentWriteError("rows the storage will never take"));
      },
    }),
  );
  await r.storage.start();
  try {
    const call = meshCall({ timeMs: T0 + 1000, isError: true });
    r.aggregator.add(call);
    r.sampler.offer(call, { i: 1 });
    await r.flusher.flush();
    assert.equal(r.flusher.pendingRows, 0);
    assert.ok(refusedRows > 0);
    assert.equal(await r.telemetry.rejected("flush", "permanent-write-error"), refusedRows);
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 1);
    assert.equal((await r.storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, limit: 10 })).length, 1, "samples after the dropped batch");
  } finally {
    await r.storage.close();
  }
});

void test("beyond maxPendingRows the OLDEST rows are dropped, counted, and backpressure starts before that", async () => {
  const r = rig({ maxPendingRows: 40, batchRows: 5 });
  try {
    // Minute 0: one service with 9 endpoints -> relation + service + instance + 9 endpoints = 12 metric rows.
    for (let i = 0; i < 9; i++) r.aggregator.add(meshCall({ timeMs: T0 + 1000, endpoint: `GET:/old${i}` }));
    r.clock.nowMs = T0 + 3 * MINUTE;
    await r.flusher.flush();
    assert.equal(r.flusher.isOverloaded(), false);
    for (let minute = 1; minute <= 3; minute++) {
      for (let i = 0; i < 9; i++) r.aggregator.add(meshCall({ timeMs: T0 + 3 * MINUTE + minute * MINUTE, endpoint: `GET:/new${i}` }));
    }
    r.clock.nowMs = T0 + 10 * MINUTE;
    await r.flusher.flush();
    assert.ok(r.flusher.pendingRows <= 40, `pending ${r.flusher.pendingRows}`);
    assert.equal(r.flusher.isOverloaded(), true);
    const dropped = await r.telemetry.rejected("flush", "dropped-oldest");
    assert.ok(dropped >= 12, `dropped ${dropped}`);
    await r.storage.start();
    r.clock.nowMs += 60 * MINUTE;
    await r.flusher.flush();
    const endpoints = await r.storage.listEntities({ kind: "endpoint", seenSinceMs: 0, limit: 100 });
    assert.ok(endpoints.some((e) => e.name.startsWith("GET:/new")), "the newest rows survived");
    const oldRows = await r.storage.queryMetrics({ scope: "endpoint", fromMs: T0, toMs: T0 + MINUTE, resolution: "minute", groupByTime: false });
    assert.equal(oldRows.length, 0, "the oldest rows were the ones dropped");
  } finally {
    await r.storage.close();
  }
});

void test("stop drains open minutes and writes them; what storage refuses on stop is dropped loudly", async () => {
  const ok = rig();
  await ok.storage.start();
  try {
    ok.flusher.start();
    ok.aggregator.add(meshCall({ timeMs: T0 + 1000 }));
    await ok.flusher.stop();
    assert.equal(await serviceCalls(ok.storage, "reviews.default"), 1, "an open minute is written on stop");
  } finally {
    await ok.storage.close();
  }
  const failing = rig({ initialBackoffMs: 1 });
  failing.aggregator.add(meshCall({ timeMs: T0 + 1000 }));
  await failing.flusher.stop();
  assert.equal(failing.flusher.pendingRows, 0);
  assert.ok((await failing.telemetry.rejected("flush", "dropped-on-stop")) > 0);
});

void test("a checkpoint is sealed at each drain and committed only once storage took every metric row drained up to it", async () => {
  const calls: string[] = [];
  let nextMark = 0;
  const checkpoint = { seal: () => (calls.push(`seal ${++nextMark}`), [nextMark]), commit: ([mark]: readonly number[]) => void calls.push(`commit ${mark}`) };
  const r = rig({ checkpoint });
  try {
    r.aggregator.add(meshCall({ timeMs: T0 }));
    await r.flusher.flush(); // storage not started: the rows wait, nothing may be committed
    r.aggregator.add(meshCall({ timeMs: T0 + 1_000 }));
    await r.storage.start();
    r.clock.nowMs += 1_000;
    await r.flusher.flush();
    assert.deepEqual(calls, ["seal 1", "seal 2", "commit 2"], "the second seal covers the first drain's rows too");
    assert.equal(await serviceCalls(r.storage, "reviews.default"), 2);
  } finally {
    await r.storage.close();
  }
});

void test("with a checkpoint, rows storage refuses on stop are no reject when the write-ahead buffer still holds their input", async () => {
  const commits: number[] = [];
  let nextMark = 0;
  const r = rig({ initialBackoffMs: 1, checkpoint: { seal: () => [++nextMark], commit: ([mark = 0]) => void commits.push(mark) } });
  r.aggregator.add(meshCall({ timeMs: T0 + 1000 }));
  // Storage never starts: every write fails, so no seal is committed and the buffer replays it all next start.
  await r.flusher.stop();
  assert.equal(r.flusher.pendingRows, 0);
  assert.deepEqual(commits, []);
  assert.equal(await r.telemetry.rejected("flush", "dropped-on-stop"), 0);
});

void test("with a journal, a drain's checkpoint commits once it is journaled; a restart writes what storage lacks, and a metric write storage took before the crash not again", async () => {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-drains-"));
  const commits: number[] = [];
  let nextMark = 0;
  const first = rig({ batchRows: 1, checkpoint: { seal: () => [++nextMark], commit: ([mark = 0]) => void commits.push(mark) }, journal: openJournal(dir) });
  try {
    for (const service of ["reviews", "ratings", "details"]) first.aggregator.add(meshCall({ timeMs: T0, destination: { service: `${service}.default`, instance: `${service}-1.default` } }));
    await first.flusher.flush(); // storage is down: nothing is written, yet the input is journaled
    assert.deepEqual(commits, [1], "the buffer's segments may go as soon as the drain is journaled");
    // The process dies after storage took one metric write of the drain.
    const journaled = new DrainJournal(dir).open();
    const metricBatches = journaled.flatMap((drain) => drain.batches).filter((batch) => batch.kind === "metrics");
    assert.ok(metricBatches.length >= 3, `one write per row: ${metricBatches.length}`);
    await first.storage.start();
    const [taken] = metricBatches;
    assert.ok(taken !== undefined);
    await first.storage.writeMetrics(taken.rows as MinuteMetrics[], taken.id);

    const journal = new DrainJournal(dir);
    const second = rig({ batchRows: 1 }, () => first.storage);
    second.flusher.recover(journal.open());
    await second.flusher.flush();
    for (const service of ["reviews", "ratings", "details"]) assert.equal(await serviceCalls(first.storage, `${service}.default`), 1, service);
    assert.equal(await counted(second.telemetry, "stored_before"), 1);
    assert.equal(await counted(second.telemetry, "written"), journaled.flatMap((drain) => drain.batches).length - 1);
  } finally {
    await first.storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

function openJournal(dir: string): DrainJournal {
  const journal = new DrainJournal(dir);
  journal.open();
  return journal;
}

async function counted(t: Telemetry, outcome: string): Promise<number> {
  const metric = await t.registry.getSingleMetric("meshsight_flush_recovered_batches_total")?.get();
  return (metric?.values ?? []).filter((value) => value.labels.outcome === outcome).reduce((sum, value) => sum + value.value, 0);
}
