import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROBE_QUEUES } from "../../../prober/scheduler/central-scheduler.ts";
import { waitFor as until } from "../../support/wait-for.ts";
import { RecordingKind, lookup, proberHarness, testCase, type ProberHarness } from "../helpers.ts";

const FLOOD_TARGETS = Array.from({ length: 30 }, (_, index) => `low-${index}`);

/**
 * Thirty slow low-priority runs every second against two worker slots per queue: whatever shares the
 * low queue waits seconds. Returns the start times of the "checked" case's runs.
 */
async function runBesideLowFlood(checkedPriority: "high" | "low"): Promise<{ starts: number[]; lowBacklog: number }> {
  const kind = new RecordingKind("test");
  const harness: ProberHarness = await proberHarness(lookup(kind), { workerConcurrency: 2, highPriorityConcurrency: 2, lowPriorityConcurrency: 2 });
  const { catalog } = harness.prober.internals;
  try {
    await harness.start();
    await catalog.upsert(testCase(lookup(kind), { name: "flood", priority: "low", targets: FLOOD_TARGETS, schedule: { every: "1s" }, timeout: "5s", spec: { durationMs: 1_500 } }));
    await until(async () => (await harness.queue.counts(PROBE_QUEUES.low.runs)).waiting >= 10, "a backlog of low-priority runs");
    await catalog.upsert(testCase(lookup(kind), { name: "checked", priority: checkedPriority, targets: ["urgent"], schedule: { every: "1s" } }));
    const addedMs = Date.now();
    await until(() => Date.now() - addedMs > 3_200 || kind.calls.filter((call) => call.target === "urgent").length >= 3, "three runs of the checked case or 3.2 s", 10_000);
    const lowBacklog = (await harness.queue.counts(PROBE_QUEUES.low.runs)).waiting;
    return { starts: kind.calls.filter((call) => call.target === "urgent").map((call) => call.startedMs), lowBacklog };
  } finally {
    await harness.stop();
  }
}

describe("one run queue per priority", () => {
  it("runs a high-priority case on time while low-priority runs pile up", async () => {
    const { starts, lowBacklog } = await runBesideLowFlood("high");
    assert.ok(lowBacklog >= 10, `the low queue is still flooded (${lowBacklog} waiting)`);
    assert.ok(starts.length >= 3, `the high-priority case ran every second, got ${starts.length} runs`);
    for (const start of starts) assert.ok(start % 1_000 < 300, `a high-priority run starts shortly after its boundary, got +${start % 1_000} ms`);
  });

  it("makes the same case wait behind the flood when it is low priority itself (the control)", async () => {
    const { starts } = await runBesideLowFlood("low");
    assert.ok(starts.length < 3, `behind the backlog the case cannot keep its 1 s cadence, got ${starts.length} runs`);
  });

  it("validates priority and defaults it to normal", () => {
    const kind = new RecordingKind("test");
    assert.equal(testCase(lookup(kind), { name: "plain" }).priority, "normal");
    assert.throws(() => testCase(lookup(kind), { name: "bad", priority: "urgent" }), /field priority: expected high, normal or low/);
  });
});
