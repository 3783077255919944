import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jitterOffsetMs } from "../../../prober/case.ts";
import { parsePromText, sampleValue } from "../api/prom-text.ts";
import { waitFor as until } from "../../support/wait-for.ts";
import { RecordingKind, lookup, proberHarness, testCase, type KindCall } from "../helpers.ts";

function callsOf(kind: RecordingKind, target: string): KindCall[] {
  return kind.calls.filter((call) => call.target === target);
}

describe("central scheduling on the inline queue", () => {
  it("runs every case and target at its interval, on the interval boundary", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "every", targets: ["a", "b"], schedule: { every: "1s" } }));
      await until(() => callsOf(kind, "a").length >= 3 && callsOf(kind, "b").length >= 3, "three runs per target");
      for (const target of ["a", "b"]) {
        const starts = callsOf(kind, target).map((call) => call.startedMs);
        for (let index = 1; index < starts.length; index += 1) {
          const gap = (starts[index] ?? 0) - (starts[index - 1] ?? 0);
          assert.ok(gap >= 700 && gap <= 1_500, `runs of ${target} are about 1 s apart, got ${gap} ms`);
        }
        for (const start of starts) assert.ok(start % 1_000 < 400, `a run starts shortly after its boundary, got +${start % 1_000} ms`);
      }
      const count = sampleValue(parsePromText(await harness.registry.metrics()), "meshsight_probe_schedule_delay_seconds_count") ?? 0;
      assert.ok(count >= 6, `schedule delay observed for every run, got ${count}`);
    } finally {
      await harness.stop();
    }
  });

  it("spreads runs by the case's jitter, at a stable offset within it", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "jittered", targets: ["a"], schedule: { every: "1s", jitter: "800ms" } }));
      await until(() => callsOf(kind, "a").length >= 2, "two jittered runs");
      const offset = jitterOffsetMs("jittered", "a", 800);
      for (const call of callsOf(kind, "a")) {
        const late = (call.startedMs % 1_000) - offset;
        assert.ok(late >= -5 && late < 300, `run starts at its jitter offset ${offset} ms, got ${call.startedMs % 1_000} ms`);
      }
    } finally {
      await harness.stop();
    }
  });

  it("accepts cron schedules (seconds field included)", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "cron", targets: ["a"], schedule: { cron: "* * * * * *" } }));
      await until(() => kind.calls.length >= 2, "two cron runs");
    } finally {
      await harness.stop();
    }
  });

  it("never runs one case and target twice at once when a run outlasts the interval", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    try {
      await harness.start();
      await harness.prober.internals.catalog.upsert(testCase(lookup(kind), { name: "slow", targets: ["a"], schedule: { every: "1s" }, timeout: "5s", spec: { durationMs: 2_300 } }));
      await until(() => kind.calls.filter((call) => call.endedMs !== undefined).length >= 2, "two slow runs finished", 15_000);
      const calls = kind.calls.filter((call) => call.endedMs !== undefined);
      for (let index = 1; index < calls.length; index += 1) {
        assert.ok((calls[index]?.startedMs ?? 0) >= (calls[index - 1]?.endedMs ?? Infinity), "each run starts after the previous one ended");
      }
    } finally {
      await harness.stop();
    }
  });

  it("stores scheduled results, with retries and timeouts, and stops a deleted case's schedule", async () => {
    const flaky = new RecordingKind("test");
    const harness = await proberHarness(lookup(flaky));
    const { catalog } = harness.prober.internals;
    try {
      await harness.start();
      await catalog.upsert(testCase(lookup(flaky), { name: "flaky", targets: ["a"], schedule: { every: "1s" }, retries: 1, spec: { failFirst: 1 } }));
      await catalog.upsert(testCase(lookup(flaky), { name: "hangs", targets: ["h"], schedule: { every: "1s" }, timeout: "200ms", spec: { durationMs: 10_000 } }));
      const stored = async (probe: string) => harness.storage.queryProbeResults({ fromMs: 0, toMs: Date.now() + 60_000, probe, limit: 10 });
      await until(async () => (await stored("flaky")).length >= 1 && (await stored("hangs")).length >= 1, "results of both cases stored", 10_000);
      // Newest first: the oldest run is the one whose first attempt failed.
      const flakyResult = (await stored("flaky")).at(-1);
      assert.equal(flakyResult?.status, "success");
      assert.equal(flakyResult?.attempt, 2, "the first attempt failed, the retry passed");
      const [hung] = await stored("hangs");
      assert.equal(hung?.status, "timeout");

      await catalog.delete("hangs");
      const hangsCalls = callsOf(flaky, "h").length;
      const flakyCalls = callsOf(flaky, "a").length;
      // The other case is the clock: two more of its runs prove the deleted case had its chances.
      await until(() => callsOf(flaky, "a").length >= flakyCalls + 2, "two more runs of the remaining case");
      assert.equal(callsOf(flaky, "h").length, hangsCalls, "a deleted case is not run again");
    } finally {
      await harness.stop();
    }
  });
});
