import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildBookinfoPods } from "../../collector/simulator/bookinfo-mesh.ts";
import type { BookinfoFault } from "../../collector/simulator/bookinfo-traffic.ts";
import { waitFor } from "../support/wait-for.ts";
import { MINUTE_MS } from "./analyzer-harness.ts";
import { startBookinfoStand, type BookinfoStand } from "./bookinfo-stand.ts";

/**
 * What changed: bookinfo over real ALS streams into a collector and the analyzer, reviews running v1 and v3 for
 * half an hour (`simulate --fault pod-absent:<reviews-v2 pod>`), then v2 rolled out and reviews 800 ms slower.
 * The verdict, reviews.default, cites the new version: "began 4 min after reviews v2 (<pod>) first served
 * traffic", in its reason, its evidence and the alert's timeline. The analyzer's clock makes the round's window
 * the five slow minutes, and the alerts begin with the first round.
 */

const ROUND_MS = 150;

interface AlertDetail {
  id: string;
  rule: string;
  entity: string;
  rootCause: { service: string; reason: string; evidence: { kind: string; summary: string; ref: string }[] } | null;
  timeline: { event: string; detail: string }[];
}

describe("what changed: a root cause cites the new version that began serving shortly before", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  const v2 = buildBookinfoPods().find((pod) => pod.name.startsWith("reviews-v2-"));
  assert.ok(v2, "the simulated mesh has a reviews-v2 pod");
  const v2Instance = `${v2.name}.${v2.namespace}`;
  const notDeployed: BookinfoFault = { kind: "pod-absent", pod: v2.name };
  const slowReviews: BookinfoFault = { kind: "delay", service: "reviews", delayMs: 800 };
  let stand: BookinfoStand;

  before(async () => {
    stand = await startBookinfoStand({ now: () => at(11), roundMs: ROUND_MS, firstMinuteMs: at(60) });
  });

  after(async () => {
    await stand.close();
  });

  it("names reviews and says the symptoms began 4 minutes after reviews v2 first served traffic", async () => {
    await stand.play(at(45), 30, [notDeployed], 1);
    await stand.play(at(15), 5, [slowReviews], 2);
    await stand.startAnalysis();
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= 2, "two analysis rounds", 20_000);

    const firing = (await stand.app.inject({ method: "GET", url: "/api/v1/alerts?state=firing" })).json<AlertDetail[]>();
    const blamingReviews = firing.filter((alert) => alert.rootCause?.service === "reviews.default");
    assert.ok(blamingReviews.length > 0, JSON.stringify(firing.map((alert) => [alert.rule, alert.entity, alert.rootCause?.service])));
    const cited = `began 4 min after reviews v2 (${v2Instance}) first served traffic`;
    for (const alert of blamingReviews) {
      assert.ok(alert.rootCause?.reason.endsWith(`; ${cited}`), alert.rootCause?.reason);
      const changes = alert.rootCause?.evidence.filter((item) => item.kind === "change") ?? [];
      assert.deepEqual(changes.map((item) => item.summary), [`${v2Instance} (v2) first served traffic at ${new Date(at(15)).toISOString()}`]);
      assert.equal(changes[0]?.ref, `/api/v1/services/reviews.default/instances?from=${at(30)}&to=${at(11)}`, "the service's instances (the query API) over the change and since");
      const detail = (await stand.app.inject({ method: "GET", url: `/api/v1/alerts/${alert.id}` })).json<AlertDetail>();
      assert.ok(detail.timeline.some((event) => event.event === "root-cause" && event.detail.endsWith(cited)), JSON.stringify(detail.timeline));
    }
    // Nothing else changed: v1 and v3 served all along.
    assert.ok(blamingReviews.every((alert) => !/reviews v1|reviews v3/.test(alert.rootCause?.reason ?? "")));
  });
});
