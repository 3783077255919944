import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { BullMqQueue } from "../../../core/queue/bullmq.ts";
import { useRedis } from "../../services/index.ts";
import { waitFor as until } from "../../support/wait-for.ts";
import { RecordingKind, lookup, proberHarness, silentLogger, testCase, type KindCall, type ProberHarness } from "../helpers.ts";

const TARGETS = ["a", "b", "c"];

/**
 * The interval slot a run belongs to, counted from the target's first run: BullMQ's `every` schedulers
 * fire at a phase of their own (not on whole seconds), so a phase near a second boundary plus a few ms of
 * queue latency would move runs across whole-second slots although each fire ran exactly once.
 */
const slotOf = (call: KindCall, firstMs: number): number => Math.round((call.startedMs - firstMs) / 1_000);

function assertEachSlotOnce(calls: readonly KindCall[], label: string): void {
  for (const target of TARGETS) {
    const starts = calls.filter((call) => call.target === target).sort((x, y) => x.startedMs - y.startedMs);
    const firstMs = starts[0]?.startedMs ?? 0;
    const slots = starts.map((call) => slotOf(call, firstMs));
    assert.equal(new Set(slots).size, slots.length, `${label}: no slot of target ${target} ran twice: ${slots.join(",")}`);
    for (let index = 1; index < slots.length; index += 1) {
      assert.equal((slots[index] ?? 0) - (slots[index - 1] ?? 0), 1, `${label}: no slot of target ${target} was skipped: ${slots.join(",")}`);
    }
  }
}

describe("central mode on BullMQ with two prober processes sharing one Redis", () => {
  it("runs every scheduled run exactly once, and the survivor takes over when one worker closes", { timeout: 60_000 }, async () => {
    const redis = await useRedis();
    const prefix = `probetest${randomUUID().replaceAll("-", "")}`;
    const kindA = new RecordingKind("test", "A");
    const kindB = new RecordingKind("test", "B");
    const queueFor = () => new BullMqQueue({ url: redis.url, prefix, maxPending: 10_000, logger: silentLogger });
    const harnesses: ProberHarness[] = [];
    let stoppedA = false;
    try {
      const a = await proberHarness(lookup(kindA), { workerConcurrency: 8 }, queueFor());
      harnesses.push(a);
      const b = await proberHarness(lookup(kindB), { workerConcurrency: 8 }, queueFor());
      harnesses.push(b);
      for (const [harness, kind] of [[a, kindA], [b, kindB]] as const) {
        await harness.start();
        await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "shared", targets: TARGETS, schedule: { every: "1s" } }));
      }
      // The second process's upsert can race a tick of the first that is running at that moment: BullMQ
      // then adds one extra iteration (addJobScheduler cannot replace an active job). Counting starts once
      // both schedules are in place and that iteration has passed.
      const steadyFromMs = Date.now() + 1_500;
      const all = () => [...kindA.calls, ...kindB.calls].filter((call) => call.startedMs >= steadyFromMs);
      await until(() => TARGETS.every((target) => all().filter((call) => call.target === target).length >= 5), "five runs of every target", 20_000);
      assertEachSlotOnce(all(), "both workers");

      await a.stop();
      stoppedA = true;
      const closedAtMs = Date.now();
      const afterClose = () => kindB.calls.filter((call) => call.startedMs > closedAtMs + 1_000);
      await until(() => TARGETS.every((target) => afterClose().filter((call) => call.target === target).length >= 3), "the survivor running every target", 20_000);
      assert.equal(kindA.calls.filter((call) => call.startedMs > closedAtMs).length, 0, "the closed worker runs nothing");
      assertEachSlotOnce(all(), "after takeover");
    } finally {
      for (const [index, harness] of harnesses.entries()) if (index > 0 || !stoppedA) await harness.stop();
      // A private Redis (no shared one from test/run.ts) is a child process that would keep the test alive.
      await redis.stop();
    }
  });
});
