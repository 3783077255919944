import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor as until } from "../../support/wait-for.ts";
import { RecordingKind, lookup, proberHarness, testCase } from "../helpers.ts";

describe("resident loops", () => {
  it("run 1-second cases in-process without the queue, results batched into storage", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "resident", targets: ["a", "b"], resident: true, schedule: { every: "1s" } }));
      assert.equal(harness.prober.internals.resident.loopCount, 2);
      await until(() => kind.calls.filter((call) => call.target === "a").length >= 3, "three resident runs of a");
      const starts = kind.calls.filter((call) => call.target === "a").map((call) => call.startedMs);
      for (let index = 1; index < starts.length; index += 1) {
        const gap = (starts[index] ?? 0) - (starts[index - 1] ?? 0);
        assert.ok(gap >= 700 && gap <= 1_500, `resident runs are about 1 s apart, got ${gap} ms`);
      }
      const counts = await harness.queue.counts("probes");
      assert.equal(counts.completed + counts.waiting + counts.delayed + counts.active, 0, "resident runs never touch the queue");
      await until(async () => (await harness.storage.queryProbeResults({ fromMs: 0, toMs: Date.now() + 1_000, probe: "resident", limit: 100 })).length >= 4, "resident results stored");

      await harness.prober.internals.catalog.delete("resident");
      assert.equal(harness.prober.internals.resident.loopCount, 0, "a deleted case's loops stop");
    } finally {
      await harness.stop();
    }
  });

  it("skip the ticks a slow run missed instead of piling them up", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "slow", targets: ["a"], resident: true, schedule: { every: "1s" }, timeout: "5s", spec: { durationMs: 1_600 } }));
      await until(() => kind.calls.filter((call) => call.endedMs !== undefined).length >= 2, "two slow runs finished", 10_000);
      const [first, second] = kind.calls;
      assert.ok(first?.endedMs !== undefined && second !== undefined && second.startedMs >= first.endedMs, "runs never overlap");
    } finally {
      await harness.stop();
    }
  });
});
