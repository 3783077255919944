import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProbeResult } from "../../../core/model/probe.ts";
import { PartialWriteError, PermanentWriteError } from "../../../core/storage/port.ts";
import { ResultBatcher } from "../../../prober/runner/result-batcher.ts";
import { waitFor as until } from "../../support/wait-for.ts";
import { silentLogger } from "../helpers.ts";

function result(index: number): ProbeResult {
  return { runId: `r${index}`, probe: "p", kind: "test", target: "t", service: "", status: "success", startedMs: index, durationMs: 1, phases: {}, message: "", attempt: 1, labels: {} };
}

describe("ResultBatcher", () => {
  it("writes full batches at once and the rest on stop", async () => {
    const batches: number[] = [];
    const batcher = new ResultBatcher({ writer: { writeProbeResults: async (rows) => void batches.push(rows.length) }, batchSize: 3, flushIntervalMs: 60_000, maxBuffered: 10, logger: silentLogger });
    await batcher.start();
    for (let index = 0; index < 7; index += 1) batcher.push(result(index));
    await until(() => batches.length >= 2, "two full batches");
    await batcher.stop();
    assert.deepEqual(batches, [3, 3, 1]);
  });

  it("keeps rows across a failed write and drops the oldest beyond its bound, counted", async () => {
    let isDown = true;
    const written: string[] = [];
    const dropped: number[] = [];
    const batcher = new ResultBatcher({
      writer: {
        writeProbeResults: async (rows) => {
          if (isDown) throw new Error("storage down");
          written.push(...rows.map((row) => row.runId));
        },
      },
      batchSize: 2,
      flushIntervalMs: 60_000,
      maxBuffered: 4,
      logger: silentLogger,
      onDropped: (count) => dropped.push(count),
    });
    for (let index = 0; index < 6; index += 1) batcher.push(result(index));
    await batcher.flush();
    assert.ok(batcher.bufferedCount <= 4);
    assert.equal(batcher.droppedCount, 2);
    assert.equal(dropped.reduce((sum, count) => sum + count, 0), 2);
    isDown = false;
    await batcher.flush();
    assert.deepEqual(written, ["r2", "r3", "r4", "r5"]);
  });

  it("after a partial write keeps only the unwritten rows; a permanent failure drops its batch, counted, and the next batch goes on", async () => {
    const written: string[] = [];
    const dropped: Array<[number, string]> = [];
    let failure: "partial" | "permanent" | "none" = "partial";
    const batcher = new ResultBatcher({
      writer: {
        writeProbeResults: async (rows) => {
          if (failure === "partial") {
            failure = "permanent";
            written.push(rows[0]?.runId ?? "");
            throw new PartialWriteError("connection lost", rows.slice(1));
          }
          if (failure === "permanent") {
            failure = "none";
            throw new PermanentWriteError("refused for good");
          }
          written.push(...rows.map((row) => row.runId));
        },
      },
      batchSize: 2,
      flushIntervalMs: 60_000,
      maxBuffered: 10,
      logger: silentLogger,
      onDropped: (count, reason) => dropped.push([count, reason]),
    });
    for (let index = 0; index < 4; index += 1) batcher.push(result(index));
    await batcher.flush();
    assert.deepEqual(written, ["r0"]);
    assert.equal(batcher.bufferedCount, 3, "r1 (unwritten) and the batch behind it");
    await batcher.flush();
    assert.deepEqual(dropped, [[2, "refused"]]);
    assert.deepEqual(written, ["r0", "r3"]);
    assert.equal(batcher.bufferedCount, 0);
  });
});
