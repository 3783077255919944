import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { MalformedBatchError, PartialWriteError, StorageUnavailableError } from "../../../core/storage/port.ts";
import { storableText } from "../../../core/storage/storable-rows.ts";
import { WriteGuard } from "../../../core/storage/write-guard.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { metricRow } from "../../conformance/storage/fixtures.ts";
import { rejectsOf } from "../../reliability/storage-backends.ts";

/**
 * The guard's splitting, with the store played by a function that refuses what a store would: the real
 * stores refusing real rows are in test/reliability/poison-row.test.ts.
 */

const logger = pino({ level: "silent" });

function guarded(): { guard: WriteGuard; registry: Registry } {
  const registry = new Registry();
  return { guard: new WriteGuard({ source: "storage.test", rejects: new RejectCounter(registry, logger), logger }), registry };
}

/** Rows named by number; the `bad` ones make any insert holding them fail as malformed. */
function rows(count: number): MinuteMetrics[] {
  return Array.from({ length: count }, (_, i) => metricRow({ timeMs: 0, service: `s${i}` }));
}

const isBad = (bad: ReadonlySet<number>) => (row: MinuteMetrics) => bad.has(Number(row.service.slice(1)));

void describe("WriteGuard", () => {
  void it("splits a refused batch until the refused rows stand alone; every other row is inserted once, in order", async () => {
    const { guard, registry } = guarded();
    const bad = new Set([0, 377, 999]);
    const inserted: string[] = [];
    let calls = 0;
    await guard.write("metric", rows(1000), (row) => row, async (batch) => {
      calls++;
      if (batch.some(isBad(bad))) throw new MalformedBatchError("Code: 131, e.displayText() = DB::Exception: Too large value");
      inserted.push(...batch.map((row) => row.service));
    });
    assert.deepEqual(inserted, rows(1000).filter((row) => !isBad(bad)(row)).map((row) => row.service));
    assert.deepEqual(await rejectsOf(registry, "storage.test"), { malformed_metric_row: 3 });
    assert.ok(calls <= 3 * 2 * 11, `${calls} inserts for 3 bad rows of 1000`);
  });

  void it("bounds the inserts a batch bad throughout costs, and counts every row of it", async () => {
    const { guard, registry } = guarded();
    let calls = 0;
    await guard.write("metric", rows(5000), (row) => row, () => {
      calls++;
      return Promise.reject(new MalformedBatchError("Code: 117, e.displayText() = DB::Exception: Unknown field"));
    });
    // 16 refused inserts per level of halving (13 levels for 5000 rows), then one more try of each range still waiting.
    assert.ok(calls <= 16 * 13 + 13 + 1, `${calls} inserts`);
    assert.deepEqual(await rejectsOf(registry, "storage.test"), { malformed_metric_row: 5000 });
  });

  void it("throws a retryable failure of the whole batch as it is: nothing was settled", async () => {
    const { guard, registry } = guarded();
    const unavailable = new StorageUnavailableError("connect ECONNREFUSED");
    await assert.rejects(guard.write("metric", rows(10), (row) => row, () => Promise.reject(unavailable)), (error) => error === unavailable);
    assert.deepEqual(await rejectsOf(registry, "storage.test"), {});
  });

  void it("after a retryable failure mid-split, names exactly the rows still unwritten; the refused ones are counted once", async () => {
    const { guard, registry } = guarded();
    const bad = new Set([1]);
    const inserted: string[] = [];
    const all = rows(8);
    const failure = await guard
      .write("metric", all, (row) => row, async (batch) => {
        if (batch.some(isBad(bad))) throw new MalformedBatchError("refused");
        // The connection goes once the first half is settled: [0] stored, [1] refused, [2, 3] stored.
        if (inserted.length === 3) throw new StorageUnavailableError("connect ECONNREFUSED");
        inserted.push(...batch.map((row) => row.service));
      })
      .then(
        () => assert.fail("the write should fail"),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof PartialWriteError);
    assert.deepEqual(inserted, ["s0", "s2", "s3"]);
    assert.deepEqual(
      failure.unwritten.map((row) => (row as MinuteMetrics).service),
      ["s4", "s5", "s6", "s7"],
    );
    assert.deepEqual(await rejectsOf(registry, "storage.test"), { malformed_metric_row: 1 });
  });

  void it("refuses a row it cannot prepare and inserts the others", async () => {
    const { guard, registry } = guarded();
    const inserted: number[] = [];
    await guard.write(
      "metric",
      rows(4),
      (row) => {
        if (row.service === "s2") throw new TypeError("calls is invalid");
        return row.service;
      },
      async (batch) => void inserted.push(batch.length),
    );
    assert.deepEqual(inserted, [3]);
    assert.deepEqual(await rejectsOf(registry, "storage.test"), { invalid_metric_row: 1 });
  });
});

void describe("storableText", () => {
  it("replaces lone surrogates, keeps pairs, and never cuts a pair in half", () => {
    const repairs: string[] = [];
    const onRepair = (reason: string): number => repairs.push(reason);
    assert.equal(storableText("a\ud800b\udc00c🦆", 100, onRepair), "a\ufffdb\ufffdc🦆");
    assert.equal(storableText("abc🦆", 4, onRepair), "abc");
    assert.equal(storableText("ab🦆", 4, onRepair), "ab🦆");
    assert.equal(storableText("plain", 5, onRepair), "plain");
    assert.deepEqual(repairs, ["lone_surrogate", "too_long"]);
  });
});
