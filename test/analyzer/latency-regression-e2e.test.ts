import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BookinfoFault } from "../../collector/simulator/bookinfo-traffic.ts";
import { deriveMetric, sumMetricValues } from "../../core/model/metrics.ts";
import { waitFor } from "../support/wait-for.ts";
import { MINUTE_MS } from "./analyzer-harness.ts";
import { startBookinfoStand, type BookinfoStand } from "./bookinfo-stand.ts";

/**
 * A latency regression against each service's own previous hour, with the built-in rules: bookinfo over
 * real ALS gRPC into an in-process collector on DuckDB, details always 600 ms slow (its normal), then
 * ratings 800 ms slower than its own hour (`simulate --fault ratings:delay:800`). ratings alerts on
 * service_latency_regression naming itself as the root cause; details, slow above the rule's floor all
 * along, does not. The analyzer's clock is set so the window is exactly the fault's five minutes.
 */

const ROUND_MS = 150;
const ALWAYS_SLOW_DETAILS: BookinfoFault = { kind: "delay", service: "details", delayMs: 600 };
const RATINGS_DELAY: BookinfoFault = { kind: "delay", service: "ratings", delayMs: 800 };

interface AlertView {
  rule: string;
  entity: string;
  rootCause: { service: string; reason: string } | null;
}

describe("latency regression against the service's own baseline, end to end", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  let stand: BookinfoStand;
  const p95Of = async (service: string, fromMs: number, toMs: number): Promise<number> => {
    const rows = await stand.storage.queryMetrics({ scope: "service", service, fromMs, toMs, resolution: "minute", groupByTime: false });
    return deriveMetric(sumMetricValues(rows), "p95", (toMs - fromMs) / MINUTE_MS);
  };

  // The round's window is the five minutes before at(10): exactly the fault's minutes.
  before(async () => {
    stand = await startBookinfoStand({ now: () => at(11), roundMs: ROUND_MS, firstMinuteMs: at(60) });
  });

  after(async () => {
    await stand.close();
  });

  it("alerts on ratings with ratings as the root cause, and not on details, which was always slow", async () => {
    await stand.play(at(45), 30, [ALWAYS_SLOW_DETAILS], 1);
    await stand.play(at(15), 5, [ALWAYS_SLOW_DETAILS, RATINGS_DELAY], 2);
    await stand.startAnalysis();
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= 3, "three analysis rounds", 20_000);

    const firing = (await stand.app.inject({ method: "GET", url: "/api/v1/alerts?state=firing" })).json<AlertView[]>();
    const names = firing.map((alert) => `${alert.rule} ${alert.entity}`);
    const onRatings = firing.filter((alert) => alert.rule === "service_latency_regression" && alert.entity === "ratings.default");
    assert.equal(onRatings.length, 1, `ratings' regression fires: ${JSON.stringify(names)}`);
    assert.equal(onRatings[0]?.rootCause?.service, "ratings.default", onRatings[0]?.rootCause?.reason ?? "no root cause");
    assert.ok(!names.includes("service_p99_high ratings.default"), "800 ms is below the fixed p99 threshold: only the baseline catches it");

    // details is slow above the rule's 250 ms floor, in the window as in its baseline hour, and stays quiet.
    assert.ok((await p95Of("details.default", at(15), at(10))) > 250);
    assert.ok((await p95Of("details.default", at(45), at(15))) > 250);
    assert.deepEqual(names.filter((name) => name.endsWith(" details.default")), []);
    for (const alert of firing.filter((each) => each.rootCause !== null)) assert.notEqual(alert.rootCause?.service, "details.default", `${alert.rule} ${alert.entity} blames details`);
  });
});
