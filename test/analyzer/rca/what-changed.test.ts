import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReleaseAct } from "../../../analyzer/rca/release-changes.ts";
import { createRootCauseFinder, type RankedRootCause } from "../../../analyzer/rca/root-cause.ts";
import { ProbeCaseHistory } from "../../../prober/case-history.ts";
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

describe("what changed: release gate acts", () => {
  it("cites the newest act per gate, act and Flagger phase from the gate's history, newest first, at most three", async () => {
    const harness = await analyzerHarness();
    try {
      for (let index = 0; index < 10; index++) await harness.writeMinute("reviews.default", minute(index), { calls: 100, errors: index < 5 ? 0 : 60 });
      const check = (atMs: number, rest: Partial<ReleaseAct>): ReleaseAct => ({ gate: "reviews-canary", action: "check", via: "flagger", who: "ci", atMs, verdict: "pass", phase: "Progressing", ...rest });
      const asked: Array<[string, number, number]> = [];
      const recentReleases = (service: string, fromMs: number, toMs: number): Promise<ReleaseAct[]> => {
        asked.push([service, fromMs, toMs]);
        return Promise.resolve([
          check(minute(2), { phase: "Initializing" }),
          check(minute(3), {}),
          check(minute(4), {}),
          check(minute(4) + 30_000, { via: "argo", phase: "", verdict: "fail", gate: "reviews-rollout" }),
          check(minute(5), { action: "override.open", via: "api", who: "release-manager", phase: "", verdict: "" }),
        ]);
      };
      const finder = createRootCauseFinder({ reader: harness.storage, logger, recentReleases });
      const symptomStartMs = minute(6);
      const verdict = (await finder.find({ symptomaticServices: ["reviews.default"], nowMs: minute(10), windowMinutes: 5, symptomStartMs })) as RankedRootCause | null;
      assert.equal(verdict?.service, "reviews.default");
      assert.deepEqual(asked, [["reviews.default", symptomStartMs - 15 * MINUTE_MS, symptomStartMs]]);
      assert.deepEqual(
        verdict.changes.map((change) => [change.kind, change.gate, change.atMs]),
        [
          ["release-gate", "reviews-canary", minute(5)],
          ["release-gate", "reviews-rollout", minute(4) + 30_000],
          ["release-gate", "reviews-canary", minute(4)],
        ],
        "the Progressing check of minute 3 is repeated at minute 4; Initializing is older than the three newest",
      );
      assert.ok(
        verdict.reason.endsWith(
          "; began 1 min after release gate reviews-canary was forced open by release-manager" +
            "; began 2 min after release gate reviews-rollout was checked (Argo Rollouts analysis, verdict fail)" +
            "; began 2 min after release gate reviews-canary was checked (Flagger phase Progressing, verdict pass)",
        ),
        verdict.reason,
      );
      const evidence = verdict.evidence.filter((item) => item.kind === "change");
      assert.deepEqual(evidence[0], { kind: "change", summary: `release gate reviews-canary was forced open by release-manager at ${new Date(minute(5)).toISOString()}`, ref: "/api/v1/gate-audit?gate=reviews-canary" });
    } finally {
      await harness.stop();
    }
  });
});

describe("what changed: probe cases changed through the API", () => {
  it("cites the newest change to each of the service's cases shortly before the symptoms, from the prober's history", async () => {
    const harness = await analyzerHarness();
    try {
      for (let index = 0; index < 10; index++) await harness.writeMinute("details.default", minute(index), { calls: 100, errors: index < 5 ? 0 : 60 });
      let clock = 0;
      const history = new ProbeCaseHistory(100, () => clock);
      const change = (atMs: number, probe: string, service: string, action: "put" | "delete"): void => {
        clock = atMs;
        history.record(probe, service, action);
      };
      change(minute(-20), "details-old", "details.default", "put");
      change(minute(3), "details-health", "details.default", "put");
      change(minute(4), "details-health", "details.default", "put");
      change(minute(4), "ratings-health", "ratings.default", "delete");
      change(minute(5), "details-deep", "details.default", "delete");
      change(minute(7), "details-late", "details.default", "put");
      const recentProbeCaseChanges = (service: string, fromMs: number, toMs: number) => Promise.resolve(history.of(service, fromMs, toMs));
      const finder = createRootCauseFinder({ reader: harness.storage, logger, recentProbeCaseChanges });
      const verdict = (await finder.find({ symptomaticServices: ["details.default"], nowMs: minute(10), windowMinutes: 5, symptomStartMs: minute(6) })) as RankedRootCause | null;
      assert.equal(verdict?.service, "details.default");
      assert.deepEqual(
        verdict.changes.map((item) => [item.kind, item.probe, item.atMs]),
        [
          ["probe-case-changed", "details-deep", minute(5)],
          ["probe-case-changed", "details-health", minute(4)],
        ],
        "one per case, newest first; not before the lookback, after the start, or of another service",
      );
      assert.ok(verdict.reason.endsWith("; began 1 min after probe case details-deep was deleted through the API; began 2 min after probe case details-health was defined or changed through the API"), verdict.reason);
      assert.deepEqual(verdict.evidence.filter((item) => item.kind === "change")[1], {
        kind: "change",
        summary: `probe case details-health was defined or changed through the API at ${new Date(minute(4)).toISOString()}`,
        ref: `/api/v1/probes/details-health/results?from=${minute(4) - 15 * MINUTE_MS}&to=${minute(10)}`,
      });
    } finally {
      await harness.stop();
    }
  });
});
