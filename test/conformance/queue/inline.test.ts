import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { InlineQueue } from "../../../core/queue/inline.ts";
import { PermanentJobError } from "../../../core/queue/port.ts";
import { recordJob } from "./helpers.ts";
import { waitFor } from "../../support/wait-for.ts";
import { CONFORMANCE_MAX_PENDING, runQueueConformance } from "./suite.ts";

const silent = pino({ level: "silent" });

runQueueConformance("inline", () => {
  const queue = new InlineQueue({ maxPending: CONFORMANCE_MAX_PENDING, logger: silent });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

void describe("InlineQueue", () => {
  void it("keeps only the newest maxDeadLetters failures", async () => {
    const queue = new InlineQueue({ maxPending: 10, maxDeadLetters: 2, logger: silent, now: () => 1_700_000_000_000 });
    try {
      queue.work<{ order: number }>(
        "q",
        recordJob((job) => {
          throw new PermanentJobError(`failure ${job.data.order}`);
        }),
        { concurrency: 1 },
      );
      for (const order of [1, 2, 3]) await queue.add("q", { order });
      await waitFor(async () => (await queue.deadLetters("q", 10)).some((failed) => failed.error === "failure 3"), "three failures");
      const kept = await queue.deadLetters("q", 10);
      assert.deepEqual(kept.map((failed) => failed.error), ["failure 3", "failure 2"]);
      assert.equal(kept[0]?.failedAtMs, 1_700_000_000_000, "failure time comes from the injected clock");
      assert.equal((await queue.counts("q")).failed, 2);
    } finally {
      await queue.close();
    }
  });

  void it("fires each schedule boundary once even when timers fire before the wall clock reaches it", async () => {
    // Timers count from the event loop's cached time, so one can fire while the wall clock still reads
    // a little before its due time. This clock reads 10 ms behind just after each 100 ms boundary.
    const laggingClock = (): number => {
      const wallMs = Date.now();
      return wallMs % 100 < 10 ? wallMs - 10 : wallMs;
    };
    const queue = new InlineQueue({ maxPending: 10, logger: silent, now: laggingClock });
    try {
      const fired: number[] = [];
      queue.work("q", recordJob(() => fired.push(Date.now())), { concurrency: 1 });
      await queue.upsertSchedule("q", "tick", { everyMs: 100 }, {});
      await waitFor(() => fired.length >= 3, "three ticks");
      for (let index = 1; index < fired.length; index += 1) {
        const gap = (fired[index] ?? 0) - (fired[index - 1] ?? 0);
        assert.ok(gap >= 50, `ticks are one interval apart, got ${gap} ms`);
      }
    } finally {
      await queue.close();
    }
  });

  void it("drops pending timers on close so nothing runs afterwards", async () => {
    const queue = new InlineQueue({ maxPending: 10, logger: silent });
    let runs = 0;
    queue.work("q", recordJob(() => (runs += 1)), { concurrency: 1 });
    await queue.add("q", {}, { delayMs: 50 });
    await queue.upsertSchedule("q", "tick", { everyMs: 20 }, {});
    await queue.close();
    const marker = new InlineQueue({ maxPending: 10, logger: silent });
    try {
      // A second queue's delayed job is the clock: by the time it runs, the closed queue's timers would have fired.
      let markerRan = false;
      marker.work("m", recordJob(() => (markerRan = true)), { concurrency: 1 });
      await marker.add("m", {}, { delayMs: 150 });
      await waitFor(() => markerRan, "the marker job");
      assert.equal(runs, 0);
    } finally {
      await marker.close();
    }
  });
});
