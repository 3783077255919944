import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_CASE_LIMITS, InvalidProbeCaseError, jitterOffsetMs, parseProbeCase } from "../../prober/case.ts";
import { loadCaseFiles, parseCaseFile } from "../../prober/case-files.ts";
import { parseDurationMs } from "../../prober/duration.ts";
import { RecordingKind, lookup } from "./helpers.ts";

const kinds = lookup(new RecordingKind("test"));

function rejects(raw: unknown, pattern: RegExp): void {
  assert.throws(() => parseProbeCase(raw, kinds, "here"), (error: unknown) => {
    assert.ok(error instanceof InvalidProbeCaseError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe("probe case definitions", () => {
  it("parses a full case with defaults filled in", () => {
    const probe = parseProbeCase(
      { name: "checkout-http", kind: "test", targets: ["a", "b", "a"], service: "checkout.default", schedule: { every: "30s", jitter: "5s" }, timeout: "2s", retries: 2, labels: { team: "pay" }, spec: { durationMs: 3 } },
      kinds,
      "here",
    );
    assert.deepEqual(probe.targets, ["a", "b"]);
    assert.deepEqual(probe.schedule, { type: "every", everyMs: 30_000, jitterMs: 5_000 });
    assert.equal(probe.timeoutMs, 2_000);
    assert.equal(probe.retries, 2);
    assert.equal(probe.service, "checkout.default");
    assert.equal(probe.resident, false);
    assert.deepEqual(probe.spec, { failFirst: 0, durationMs: 3, ignoreAbort: false, throws: false });
    const manual = parseProbeCase({ name: "m", kind: "test", targets: ["x"] }, kinds, "here");
    assert.deepEqual(manual.schedule, { type: "manual" });
    assert.equal(manual.timeoutMs, 10_000);
  });

  it("accepts cron schedules and rejects bad ones naming the field", () => {
    assert.deepEqual(parseProbeCase({ name: "c", kind: "test", targets: ["x"], schedule: { cron: "*/5 * * * *" } }, kinds, "here").schedule, { type: "cron", pattern: "*/5 * * * *" });
    rejects({ name: "c", kind: "test", targets: ["x"], schedule: { cron: "not a cron" } }, /here: case "c" field schedule\.cron: .*invalid cron pattern/);
  });

  it("names the field of every mistake", () => {
    rejects({ name: "Bad Name", kind: "test", targets: ["x"] }, /field name: expected lower-case/);
    rejects({ name: "n", kind: "nope", targets: ["x"] }, /case "n" field kind: unknown kind "nope"/);
    rejects({ name: "n", kind: "test", targets: [] }, /field targets: a case needs at least one target/);
    rejects({ name: "n", kind: "test", targets: ["x"], schedule: { every: "30" } }, /field schedule.*every|field schedule: expected/);
    rejects({ name: "n", kind: "test", targets: ["x"], schedule: { every: "200ms" } }, /field schedule\.every: expected at least 1000ms \(use resident: true/);
    rejects({ name: "n", kind: "test", targets: ["x"], schedule: { every: "2s", jitter: "2s" } }, /field schedule\.jitter: must be shorter than every/);
    rejects({ name: "n", kind: "test", targets: ["x"], timeout: "10 minutes" }, /field timeout: expected a duration/);
    rejects({ name: "n", kind: "test", targets: ["x"], retries: 11 }, /field retries: expected an integer 0\.\.10/);
    rejects({ name: "n", kind: "test", targets: ["x"], colour: "red" }, /unknown field\(s\) colour/);
    rejects({ name: "n", kind: "test", targets: ["x"], resident: true, schedule: { cron: "* * * * *" } }, /resident case needs schedule\.every/);
    rejects({ name: "n", kind: "test", targets: ["x"], spec: { durationMs: "slow" } }, /case "n" field spec: spec\.durationMs: expected a number/);
    rejects("just text", /field \(case\): expected a mapping/);
    rejects({ name: "n", kind: "test", targets: Array.from({ length: DEFAULT_CASE_LIMITS.maxTargetsPerCase + 1 }, (_, index) => `t${index}`) }, /at most 100 targets/);
  });

  it("lets resident cases go down to 1 s", () => {
    const probe = parseProbeCase({ name: "r", kind: "test", targets: ["x"], resident: true, schedule: { every: "1s" } }, kinds, "here");
    assert.deepEqual(probe.schedule, { type: "every", everyMs: 1_000, jitterMs: 0 });
  });

  it("keeps jitter offsets within the jitter and stable per case and target", () => {
    const offsets = new Set<number>();
    for (let index = 0; index < 500; index += 1) {
      const offset = jitterOffsetMs("case", `target-${index}`, 5_000);
      assert.ok(offset >= 0 && offset < 5_000, String(offset));
      assert.equal(jitterOffsetMs("case", `target-${index}`, 5_000), offset);
      offsets.add(Math.floor(offset / 1_000));
    }
    assert.equal(offsets.size, 5, "offsets spread over the whole jitter window");
    assert.equal(jitterOffsetMs("case", "x", 0), 0);
  });

  it("parses durations and refuses bare numbers", () => {
    assert.equal(parseDurationMs("500ms"), 500);
    assert.equal(parseDurationMs("1.5s"), 1_500);
    assert.equal(parseDurationMs("2m"), 120_000);
    assert.equal(parseDurationMs("30"), null);
  });
});

describe("probe case files", () => {
  it("reads one case, several documents and cases: lists, naming file and line in errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshsight-cases-"));
    try {
      await writeFile(join(dir, "a.yaml"), "name: one\nkind: test\ntargets: [x]\n---\nname: two\nkind: test\ntargets: [y]\nschedule: { every: 10s }\n");
      await writeFile(join(dir, "b.yml"), "cases:\n  - name: three\n    kind: test\n    targets: [z]\n");
      await writeFile(join(dir, "ignored.txt"), "not yaml at all: [");
      const cases = await loadCaseFiles([dir], kinds, DEFAULT_CASE_LIMITS, 10);
      assert.deepEqual(cases.map((probe) => probe.name), ["one", "two", "three"]);

      const bad = join(dir, "bad.yaml");
      await writeFile(bad, "cases:\n  - name: fine\n    kind: test\n    targets: [x]\n  - name: broken\n    kind: test\n    targets: [x]\n    timeout: soon\n");
      await assert.rejects(loadCaseFiles([bad], kinds, DEFAULT_CASE_LIMITS, 10), new RegExp(`^InvalidProbeCaseError: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:5: case "broken" field timeout`));

      await writeFile(bad, "name: one\nkind: test\ntargets: [x]\n");
      await assert.rejects(loadCaseFiles([dir, bad], kinds, DEFAULT_CASE_LIMITS, 10), /bad\.yaml:1: case "one" is already defined at .*a\.yaml:1/);
      await assert.rejects(loadCaseFiles([join(dir, "missing.yaml")], kinds, DEFAULT_CASE_LIMITS, 10), /missing\.yaml: ENOENT/);
      await assert.rejects(loadCaseFiles([dir], kinds, DEFAULT_CASE_LIMITS, 2), /more than 2 probe cases/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports YAML syntax errors with their line", () => {
    assert.throws(() => parseCaseFile("name: x\nkind: test\ntargets: [x\n", "f.yaml", kinds, DEFAULT_CASE_LIMITS), /^InvalidProbeCaseError: f\.yaml:\d+: not valid YAML/);
  });
});
