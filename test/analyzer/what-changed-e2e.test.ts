import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildBookinfoPods } from "../../collector/simulator/bookinfo-mesh.ts";
import type { BookinfoFault } from "../../collector/simulator/bookinfo-traffic.ts";
import { waitFor } from "../support/wait-for.ts";
import { MINUTE_MS } from "./analyzer-harness.ts";
import { startBookinfoStand, type BookinfoStand } from "./bookinfo-stand.ts";

/**
 * What changed: bookinfo over real ALS streams into a collector and the analyzer, reviews running v1 and v3 for
 * half an hour (`simulate --fault pod-absent:<reviews-v2 pod>`), then v2 rolled out and reviews 800 ms slower,
 * and Flagger calling the release gate of reviews (its webhook over a real socket) while the canary progressed.
 * The verdict, reviews.default, cites the new version, "began 4 min after reviews v2 (<pod>) first served
 * traffic", and the gate check, "began 2 min after release gate reviews-canary was checked (Flagger phase
 * Progressing, ...)", in its reason, its evidence and the alert's timeline. The analyzer's clock makes the
 * round's window the five slow minutes, and the alerts begin with the first round (11 minutes ago); the
 * gate's clock says 13 minutes ago.
 */

const ROUND_MS = 150;

const REVIEWS_GATE = `
gates:
  - name: reviews-canary
    service: reviews.default
    version: v2
    stableVersion: v1
    window: 5m
    flagger: { name: reviews, namespace: default }
`;

interface AlertDetail {
  id: string;
  rule: string;
  entity: string;
  rootCause: { service: string; reason: string; evidence: { kind: string; summary: string; ref: string }[] } | null;
  timeline: { event: string; detail: string }[];
}

describe("what changed: a root cause cites the new version that began serving and the release gate checked shortly before", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  const v2 = buildBookinfoPods().find((pod) => pod.name.startsWith("reviews-v2-"));
  assert.ok(v2, "the simulated mesh has a reviews-v2 pod");
  const v2Instance = `${v2.name}.${v2.namespace}`;
  const notDeployed: BookinfoFault = { kind: "pod-absent", pod: v2.name };
  const slowReviews: BookinfoFault = { kind: "delay", service: "reviews", delayMs: 800 };
  let stand: BookinfoStand;

  before(async () => {
    stand = await startBookinfoStand({ now: () => at(11), roundMs: ROUND_MS, firstMinuteMs: at(60), gates: { yaml: REVIEWS_GATE, now: () => at(13) } });
  });

  after(async () => {
    await stand.close();
  });

  it("names reviews and says the symptoms began 2 minutes after Flagger checked its gate and 4 after reviews v2 first served traffic", async () => {
    await stand.play(at(45), 30, [notDeployed], 1);
    await stand.play(at(15), 5, [slowReviews], 2);
    const verdict = await callFlaggerTwice(await stand.app.listen({ host: "127.0.0.1", port: 0 }));
    await stand.startAnalysis();
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= 2, "two analysis rounds", 20_000);

    const firing = (await stand.app.inject({ method: "GET", url: "/api/v1/alerts?state=firing" })).json<AlertDetail[]>();
    const blamingReviews = firing.filter((alert) => alert.rootCause?.service === "reviews.default");
    assert.ok(blamingReviews.length > 0, JSON.stringify(firing.map((alert) => [alert.rule, alert.entity, alert.rootCause?.service])));
    const gateCheck = `release gate reviews-canary was checked (Flagger phase Progressing, verdict ${verdict})`;
    const cited = `began 2 min after ${gateCheck}; began 4 min after reviews v2 (${v2Instance}) first served traffic`;
    for (const alert of blamingReviews) {
      assert.ok(alert.rootCause?.reason.endsWith(`; ${cited}`), alert.rootCause?.reason);
      const changes = alert.rootCause?.evidence.filter((item) => item.kind === "change") ?? [];
      assert.deepEqual(
        changes.map((item) => item.summary),
        [`${gateCheck} at ${new Date(at(13)).toISOString()}`, `${v2Instance} (v2) first served traffic at ${new Date(at(15)).toISOString()}`],
        "Flagger's retry in the same phase is one change",
      );
      assert.equal(changes[0]?.ref, "/api/v1/gate-audit?gate=reviews-canary", "the gate's audit records");
      assert.equal(changes[1]?.ref, `/api/v1/services/reviews.default/instances?from=${at(30)}&to=${at(11)}`, "the service's instances (the query API) over the change and since");
      const detail = (await stand.app.inject({ method: "GET", url: `/api/v1/alerts/${alert.id}` })).json<AlertDetail>();
      assert.ok(detail.timeline.some((event) => event.event === "root-cause" && event.detail.endsWith(cited)), JSON.stringify(detail.timeline));
    }
    // Nothing else changed: v1 and v3 served all along.
    assert.ok(blamingReviews.every((alert) => !/reviews v1|reviews v3/.test(alert.rootCause?.reason ?? "")));
  });
});

/** Flagger's rollout webhook for the reviews canary, sent twice as Flagger does every analysis interval; returns the verdict. */
async function callFlaggerTwice(baseUrl: string): Promise<string> {
  const payload = { name: "reviews", namespace: "default", phase: "Progressing", checksum: "5d8f9c", metadata: {} };
  const verdicts: string[] = [];
  for (let call = 0; call < 2; call++) {
    const response = await fetch(`${baseUrl}/api/v1/flagger/gate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
    const body = (await response.json()) as { gate: string; verdict: string };
    assert.equal(body.gate, "reviews-canary", JSON.stringify(body));
    verdicts.push(body.verdict);
  }
  assert.equal(verdicts[0], verdicts[1]);
  return verdicts[0] ?? "";
}
