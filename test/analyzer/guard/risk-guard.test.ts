import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { useRedis } from "../../services/index.ts";
import { ManualClock, podDelete, startGuard, tempDir, type GuardHarness } from "./support.ts";

const WINDOWS = { windows: { "1m": 3, "5m": 5 } };
const MINUTE_MS = 60_000;

async function admitMany(harness: GuardHarness, count: number, namespace = "default"): Promise<boolean[]> {
  const outcomes: boolean[] = [];
  for (let index = 0; index < count; index++) outcomes.push((await harness.guard.admit(podDelete(`pod-${index}`, namespace))).isAllowed);
  return outcomes;
}

/** The same cases on both state stores: what differs is only where the buckets live. */
function windowCases(name: string, open: (clock: ManualClock, dir: string) => Promise<GuardHarness>): void {
  describe(`risk guard windows (${name})`, () => {
    const dirs: Array<{ remove: () => void }> = [];
    after(() => dirs.forEach((dir) => dir.remove()));
    const fresh = () => {
      const dir = tempDir();
      dirs.push(dir);
      return { clock: new ManualClock(), dir: dir.path };
    };

    it("allows a burst up to the 1m limit, trips on the next, and alerts once", async () => {
      const { clock, dir } = fresh();
      const harness = await open(clock, dir);
      try {
        assert.deepEqual(await admitMany(harness, 3), [true, true, true]);
        const refused = await harness.guard.admit(podDelete("pod-3"));
        assert.equal(refused.isAllowed, false);
        assert.match(refused.isAllowed ? "" : refused.message, /delete-pod@namespace\/default has no token left in its 1m window/);
        clock.advance(10 * MINUTE_MS);
        const stillRefused = await harness.guard.admit(podDelete("pod-4"));
        assert.equal(stillRefused.isAllowed ? "" : stillRefused.rule, "tripped", "a trip holds even after the window refilled");
        assert.equal((await harness.guard.admit(podDelete("pod-5", "other"))).isAllowed, true, "only the namespace that ran dry is tripped");
      } finally {
        await harness.stop();
      }
    });

    it("refills: a steady rate within every window is allowed, the 5m window stops a second burst", async () => {
      const { clock, dir } = fresh();
      const harness = await open(clock, dir);
      try {
        assert.deepEqual(await admitMany(harness, 3), [true, true, true]);
        clock.advance(MINUTE_MS);
        // 1m is full again (3); 5m had 2 left and got one back: 3.
        assert.deepEqual(await admitMany(harness, 3), [true, true, true]);
        clock.advance(MINUTE_MS);
        // 1m is full again, but 5m got only one token back in that minute.
        assert.equal((await harness.guard.admit(podDelete("pod-x"))).isAllowed, true);
        const refused = await harness.guard.admit(podDelete("pod-y"));
        assert.match(refused.isAllowed ? "" : refused.message, /no token left in its 5m window \(5 per 5m\)/);
      } finally {
        await harness.stop();
      }
    });

    it("trips, stays tripped for further operations, and an operator's reset restores it with a resolved alert", async () => {
      const { clock, dir } = fresh();
      const harness = await open(clock, dir);
      try {
        await admitMany(harness, 4);
        assert.equal((await harness.guard.admit(podDelete("again"))).isAllowed, false);
        const firing = harness.notifications.received.filter((notification) => notification.change === "firing");
        assert.equal(firing.length, 1, "one alert per trip");
        assert.equal(firing[0]?.alert.id, "risk-guard:delete-pod@namespace/default");
        assert.equal(firing[0]?.alert.labels.severity, "critical");
        const views = await harness.guard.buckets();
        assert.equal(views[0]?.key, "delete-pod@namespace/default");
        assert.notEqual(views[0]?.tripped, null);
        assert.equal(await harness.guard.reset("delete-pod@namespace/default", "alice"), true);
        assert.equal(await harness.guard.reset("delete-pod@namespace/default", "alice"), false, "nothing left to reset");
        assert.equal(harness.notifications.received.at(-1)?.change, "resolved");
        // The cluster bucket spent its own tokens in that burst; it refills on its own.
        clock.advance(MINUTE_MS);
        assert.equal((await harness.guard.admit(podDelete("after-reset"))).isAllowed, true);
        const decisions = harness.audit.recent(100).map((record) => record.decision);
        assert.deepEqual(decisions.slice(0, 2), ["allowed", "reset"]);
        assert.ok(decisions.includes("tripped") && decisions.includes("refused"));
      } finally {
        await harness.stop();
      }
    });

    it("keeps spent tokens and trips across a restart", async () => {
      const { clock, dir } = fresh();
      let harness = await open(clock, dir);
      assert.deepEqual(await admitMany(harness, 2), [true, true]);
      await harness.stop();
      harness = await open(clock, dir);
      assert.deepEqual(await admitMany(harness, 2), [true, false], "one token was left after the restart");
      await harness.stop();
      harness = await open(clock, dir);
      try {
        clock.advance(30 * MINUTE_MS);
        const decision = await harness.guard.admit(podDelete("later"));
        assert.equal(decision.isAllowed ? "" : decision.rule, "tripped", "the trip survived the restart");
      } finally {
        await harness.stop();
      }
    });
  });
}

windowCases("state file", (clock, dir) => startGuard({ dir, clock, config: WINDOWS }));

const redisPrefix = `guard-test-${process.pid}-${Date.now()}-`;
let prefixCount = 0;
const prefixByDir = new Map<string, string>();
windowCases("Redis", async (clock, dir) => {
  const redis = await useRedis();
  // One prefix per case, the same one again when a case "restarts" over the same dir.
  const prefix = prefixByDir.get(dir) ?? `${redisPrefix}${prefixCount++}:`;
  prefixByDir.set(dir, prefix);
  return startGuard({ dir, clock, config: WINDOWS, redis: { url: redis.url, prefix } });
});

describe("risk guard shared by replicas over Redis", () => {
  it("two replicas spend from one bucket, and only the one that trips it alerts", async () => {
    const redis = await useRedis();
    const dir = tempDir();
    const clock = new ManualClock();
    const shared = { url: redis.url, prefix: `${redisPrefix}replicas:` };
    const first = await startGuard({ dir: join(dir.path, "a"), clock, config: WINDOWS, redis: shared });
    const second = await startGuard({ dir: join(dir.path, "b"), clock, config: WINDOWS, redis: shared });
    try {
      const outcomes = await Promise.all([first, second, first, second, first, second].map((replica, index) => replica.guard.admit(podDelete(`pod-${index}`))));
      assert.equal(outcomes.filter((outcome) => outcome.isAllowed).length, 3, "exactly the 1m limit across both replicas");
      const alerts = [...first.notifications.received, ...second.notifications.received].filter((notification) => notification.change === "firing");
      assert.equal(alerts.length, 1);
    } finally {
      await first.stop();
      await second.stop();
      dir.remove();
    }
  });
});

describe("blast radius, dry runs and the audit file", () => {
  it("never acts on more than the share of one group within the settle time", async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const harness = await startGuard({ dir: dir.path, clock, config: { blastMaxShare: 0.34, blastSettleMs: 5 * MINUTE_MS } });
    try {
      const group = { name: "service/reviews.default", size: 6 };
      const admit = (target: string) => harness.guard.admit({ ...podDelete(target), group });
      assert.equal((await admit("reviews-1")).isAllowed, true);
      assert.equal((await admit("reviews-2")).isAllowed, true);
      const third = await admit("reviews-3");
      assert.equal(third.isAllowed ? "" : third.rule, "blast-radius");
      assert.match(third.isAllowed ? "" : third.message, /2 of 6 members .* blast radius of 2 \(34%\)/);
      assert.equal((await admit("reviews-1")).isAllowed, true, "the same member again widens nothing");
      clock.advance(5 * MINUTE_MS);
      assert.equal((await admit("reviews-3")).isAllowed, true, "settled acts no longer count");
      const lines = readFileSync(join(dir.path, "guard-audit.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { decision: string; evidence: { rule?: string } });
      assert.deepEqual(lines.map((line) => line.decision), ["allowed", "allowed", "refused", "allowed", "allowed"]);
      assert.equal(lines[2]?.evidence.rule, "blast-radius");
    } finally {
      await harness.stop();
      dir.remove();
    }
  });

  it("judges dry runs without spending", async () => {
    const dir = tempDir();
    const harness = await startGuard({ dir: dir.path, clock: new ManualClock(), config: { windows: { "1m": 1 } } });
    try {
      for (let index = 0; index < 3; index++) assert.equal((await harness.guard.wouldAdmit(podDelete("p"))).isAllowed, true);
      assert.equal((await harness.guard.admit(podDelete("p"))).isAllowed, true);
      assert.equal((await harness.guard.wouldAdmit(podDelete("p"))).isAllowed, false);
    } finally {
      await harness.stop();
      dir.remove();
    }
  });
});
