import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRootCauseFinder, type RankedRootCause } from "../../../analyzer/rca/root-cause.ts";
import { analyzerHarness, logger, MINUTE_MS } from "../analyzer-harness.ts";

/** Whole minutes an hour ago: nothing else writes there. */
const BASE = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
const minute = (index: number): number => BASE + index * MINUTE_MS;

describe("what changed: a probe case that started failing", () => {
  it("is cited when it passed and then failed shortly before the symptoms began, and not without a symptom start", async () => {
    const harness = await analyzerHarness();
    try {
      for (let index = 0; index < 10; index++) await harness.writeMinute("ratings.default", minute(index), { calls: 100, errors: index < 5 ? 0 : 60 });
      await harness.writeProbeRuns("ratings-health", "http://ratings.default:9080/health", minute(5), [true, true], "ratings.default");
      await harness.writeProbeRuns("ratings-health", "http://ratings.default:9080/health", minute(6), [false, false], "ratings.default");
      await harness.writeProbeRuns("always-red", "http://ratings.default:9080/old", minute(5), [false, false], "ratings.default");
      const finder = createRootCauseFinder({ reader: harness.storage, logger });
      const request = { symptomaticServices: ["ratings.default"], nowMs: minute(10), windowMinutes: 5 };

      const verdict = (await finder.find({ ...request, symptomStartMs: minute(8) + 30_000 })) as RankedRootCause | null;
      assert.equal(verdict?.service, "ratings.default");
      assert.ok(verdict.reason.endsWith("; began 3 min after probe ratings-health started failing"), verdict.reason);
      assert.deepEqual(verdict.changes.map((change) => [change.kind, change.probe, change.atMs]), [["probe-failing", "ratings-health", minute(6)]], "always-red never passed: no change");
      assert.deepEqual(verdict.evidence.filter((item) => item.kind === "change").map((item) => item.summary), [`probe ratings-health started failing at ${new Date(minute(6)).toISOString()}`]);

      const withoutStart = (await finder.find(request)) as RankedRootCause | null;
      assert.deepEqual(withoutStart?.changes, []);
    } finally {
      await harness.stop();
    }
  });
});
