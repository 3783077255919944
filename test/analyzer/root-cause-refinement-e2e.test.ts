import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildBookinfoPods } from "../../collector/simulator/bookinfo-mesh.ts";
import type { WebhookPayload } from "../../analyzer/outputs/adapters/webhook.ts";
import { useAlertmanager, type RunningService } from "../services/index.ts";
import { waitFor } from "../support/wait-for.ts";
import { startReceiver, type Receiver } from "./outputs/support.ts";
import { MINUTE_MS } from "./analyzer-harness.ts";
import { startBookinfoStand, type BookinfoStand } from "./bookinfo-stand.ts";

/**
 * A pod-down fault (`simulate --fault pod-down:<reviews-v2 pod>`) over real ALS streams into a collector and the
 * analyzer, whose notifications go through the real outputs to a webhook and a Slack-style receiver on loopback and
 * to a real Alertmanager. While the root-cause window still holds minutes the pod served, the verdict can only
 * name reviews.default; once the window is all fault, the next round names the pod: the timeline records the
 * sharpened verdict and every output gets the update.
 */

const ROUND_MS = 150;
const PUBLIC_URL = "http://meshsight.test:8080";

interface AlertView {
  id: string;
  rule: string;
  entity: string;
  rootCause: { service: string; instance: string; reason: string } | null;
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe("root cause refined while firing: a pod-down fault names the service first, then the pod", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  const downPod = buildBookinfoPods().find((pod) => pod.name.startsWith("reviews-v2-"));
  assert.ok(downPod, "the simulated mesh has a reviews-v2 pod");
  const downInstance = `${downPod.name}.${downPod.namespace}`;
  let clockMs = at(7);
  let receiver: Receiver;
  let alertmanager: RunningService;
  let stand: BookinfoStand;
  const webhookBodies = (): WebhookPayload[] => receiver.requests.filter((request) => request.url === "/hook").map((request) => JSON.parse(request.body) as WebhookPayload);
  const slackTexts = (): string[] => receiver.requests.filter((request) => request.url === "/slack").map((request) => (JSON.parse(request.body) as { text: string }).text);
  const alerts = async (): Promise<AlertView[]> => (await stand.app.inject({ method: "GET", url: "/api/v1/alerts?state=firing" })).json<AlertView[]>();
  const describeAlerts = async (): Promise<string> => JSON.stringify((await alerts()).map((alert) => [alert.rule, alert.entity, alert.rootCause?.service, alert.rootCause?.instance]));

  before(async () => {
    receiver = await startReceiver((request) => ({ status: 200, body: request.url === "/slack" ? "ok" : "" }));
    alertmanager = await useAlertmanager();
    stand = await startBookinfoStand({
      now: () => clockMs,
      roundMs: ROUND_MS,
      firstMinuteMs: at(40),
      outputs: {
        publicUrl: PUBLIC_URL,
        targets: [
          { name: "hook", type: "webhook", url: `${receiver.url}/hook` },
          { name: "chat", type: "slack", url: `${receiver.url}/slack` },
          { name: "am", type: "alertmanager", url: alertmanager.url },
        ],
      },
    });
  });

  after(async () => {
    await stand.close();
    await alertmanager.stop();
    await receiver.close();
  });

  it("first blames reviews.default while the window still holds served minutes", async () => {
    await stand.play(at(30), 20, [], 1);
    await stand.play(at(10), 10, [{ kind: "pod-down", pod: downPod.name }], 2);
    await stand.startAnalysis();
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= 2, "two analysis rounds", 20_000);
    const blamingReviews = (await alerts()).filter((alert) => alert.rootCause?.service === "reviews.default");
    assert.ok(blamingReviews.length > 0, await describeAlerts());
    assert.ok(blamingReviews.every((alert) => alert.rootCause?.instance === ""), `no pod named yet: ${await describeAlerts()}`);
    // What changed: the pod stopped serving three minutes before the alerts began (they start with the first round, at(7)).
    for (const alert of blamingReviews) assert.ok(alert.rootCause?.reason.endsWith(`; began 3 min after reviews v2 (${downInstance}) stopped serving traffic`), alert.rootCause?.reason);
    await waitFor(() => webhookBodies().some((body) => body.change === "firing"), "the firing webhook", 10_000);
  });

  it("names the pod once the window is all fault, records it in the timeline and updates every output", async () => {
    clockMs = at(3);
    let seen = "";
    await waitFor(async () => {
      seen = await describeAlerts();
      return (await alerts()).some((alert) => alert.rootCause?.instance === downInstance);
    }, `a verdict naming ${downInstance}`, 20_000, () => seen);
    const sharpened = (await alerts()).filter((alert) => alert.rootCause?.instance === downInstance);
    for (const alert of sharpened) {
      const detail = (await stand.app.inject({ method: "GET", url: `/api/v1/alerts/${alert.id}` })).json<{ timeline: { event: string; detail: string }[] }>();
      const events = detail.timeline.map((event) => event.event);
      assert.ok(events.includes("root-cause") && events.indexOf("root-cause") < events.indexOf("root-cause-refined"), JSON.stringify(detail.timeline));
      const refined = detail.timeline.filter((event) => event.event === "root-cause-refined");
      assert.equal(refined.length, 1, JSON.stringify(refined));
      assert.ok(refined[0]?.detail.startsWith(`sharpened: reviews.default -> reviews.default (${downInstance}): `), refined[0]?.detail);
      assert.ok(detail.timeline.some((event) => event.event === "notified" && event.detail === "updated"), JSON.stringify(detail.timeline));
    }

    const updatedIds = new Set(sharpened.map((alert) => alert.id));
    await waitFor(() => webhookBodies().filter((body) => body.change === "updated").length === updatedIds.size, "one webhook update per sharpened alert", 10_000);
    for (const body of webhookBodies().filter((each) => each.change === "updated")) {
      assert.ok(updatedIds.has(body.alert.id));
      assert.equal(body.alert.state, "firing");
      assert.equal(body.alert.rootCause?.instance, downInstance);
    }
    await waitFor(() => slackTexts().filter((text) => text.startsWith("*[UPDATED] ")).length === updatedIds.size, "one chat update per sharpened alert", 10_000);
    assert.ok(slackTexts().filter((text) => text.startsWith("*[UPDATED] ")).every((text) => text.includes(`reviews.default (instance ${downInstance})`)));

    await waitFor(async () => {
      const response = await fetch(`${alertmanager.url}/api/v2/alerts`);
      const shown = (await response.json()) as GettableAlert[];
      const ours = shown.filter((alert) => updatedIds.has(alert.annotations.alert_id ?? ""));
      return ours.length === updatedIds.size && ours.every((alert) => alert.annotations.root_cause?.startsWith(`reviews.default (instance ${downInstance})`));
    }, "Alertmanager to show the sharpened root cause", 10_000);
  });
});
