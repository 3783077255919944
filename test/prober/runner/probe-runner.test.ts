import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProbeRunner, type RunRecord } from "../../../prober/runner/probe-runner.ts";
import { RecordingKind, lookup, testCase } from "../helpers.ts";

function runnerWith(kind: RecordingKind, options: { retryDelayMs?: number; stuckGraceMs?: number } = {}) {
  const recorded: RunRecord[] = [];
  const runner = new ProbeRunner({ kinds: lookup(kind), onResult: (record) => recorded.push(record), ...options });
  return { runner, recorded };
}

describe("ProbeRunner", () => {
  it("records a success with phases, labels, service and attempt", async () => {
    const kind = new RecordingKind("test");
    const { runner, recorded } = runnerWith(kind);
    const probe = testCase(lookup(kind), { name: "ok", service: "web.default", labels: { team: "a" } });
    const { result, outcome } = await runner.run(probe, "a", { runId: "r1" });
    assert.equal(result.status, "success");
    assert.equal(result.runId, "r1");
    assert.equal(result.service, "web.default");
    assert.deepEqual(result.labels, { team: "a" });
    assert.equal(result.attempt, 1);
    assert.equal(result.phases.total, 15);
    assert.equal(outcome.metrics.http_status_code, 200);
    assert.equal(recorded.length, 1);
  });

  it("retries a failing case up to its retries and reports the deciding attempt", async () => {
    const kind = new RecordingKind("test");
    const { runner } = runnerWith(kind, { retryDelayMs: 5 });
    const passesOnThird = testCase(lookup(kind), { name: "flaky", retries: 2, spec: { failFirst: 2 } });
    const { result } = await runner.run(passesOnThird, "a");
    assert.equal(result.status, "success");
    assert.equal(result.attempt, 3);
    assert.equal(kind.calls.length, 3);

    const neverPasses = testCase(lookup(kind), { name: "down", retries: 1, spec: { failFirst: 10 } });
    const failed = await runner.run(neverPasses, "b");
    assert.equal(failed.result.status, "failure");
    assert.equal(failed.result.attempt, 2);
    assert.match(failed.result.message, /planned failure/);
  });

  it("times a slow run out through its abort signal", async () => {
    const kind = new RecordingKind("test");
    const { runner } = runnerWith(kind);
    const slow = testCase(lookup(kind), { name: "slow", timeout: "100ms", spec: { durationMs: 5_000 } });
    const started = Date.now();
    const { result } = await runner.run(slow, "a");
    assert.equal(result.status, "timeout");
    assert.ok(Date.now() - started < 2_000, "the run ended at its timeout, not the kind's 5 s");
  });

  it("abandons a stuck run that ignores the abort and marks it timeout", async () => {
    const kind = new RecordingKind("test");
    const { runner } = runnerWith(kind, { stuckGraceMs: 50 });
    const stuck = testCase(lookup(kind), { name: "stuck", timeout: "100ms", spec: { durationMs: 3_000, ignoreAbort: true } });
    const started = Date.now();
    const { result } = await runner.run(stuck, "a");
    assert.equal(result.status, "timeout");
    assert.match(result.message, /did not stop when aborted/);
    assert.ok(Date.now() - started < 1_500);
    assert.equal(runner.isRunning("stuck", "a"), false, "the guard is released so the next run can start");
  });

  it("reports a throwing kind as error, not as an unhealthy target", async () => {
    const kind = new RecordingKind("test");
    const { runner } = runnerWith(kind);
    const { result } = await runner.run(testCase(lookup(kind), { name: "broken", spec: { throws: true } }), "a");
    assert.equal(result.status, "error");
    assert.match(result.message, /test probe failed to run: kind exploded/);
  });

  it("joins a run of the same case and target already in flight instead of starting another", async () => {
    const kind = new RecordingKind("test");
    const { runner, recorded } = runnerWith(kind);
    const probe = testCase(lookup(kind), { name: "dedupe", targets: ["a", "b"], spec: { durationMs: 100 } });
    const [first, second, other] = await Promise.all([runner.run(probe, "a"), runner.run(probe, "a"), runner.run(probe, "b")]);
    assert.equal(first, second);
    assert.notEqual(first, other);
    assert.equal(kind.calls.filter((call) => call.target === "a").length, 1);
    assert.equal(runner.deduplicatedRuns, 1);
    assert.equal(recorded.length, 2);
    // Ad-hoc runs are neither joined nor recorded.
    await runner.run(probe, "a", { record: false });
    assert.equal(recorded.length, 2);
  });
});
