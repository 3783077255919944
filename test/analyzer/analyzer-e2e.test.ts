import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BookinfoFault } from "../../collector/simulator/bookinfo-traffic.ts";
import type { IncidentWebhookPayload, WebhookPayload } from "../../analyzer/outputs/adapters/webhook.ts";
import { parsePromText, sampleValue } from "../prober/api/prom-text.ts";
import { waitFor } from "../support/wait-for.ts";
import { startReceiver, type Receiver } from "./outputs/support.ts";
import { MINUTE_MS } from "./analyzer-harness.ts";
import { startBookinfoStand, type BookinfoStand } from "./bookinfo-stand.ts";

/**
 * The issue's end-to-end case: bookinfo traffic over real ALS gRPC into an in-process collector on
 * DuckDB; ratings starts answering 503 (after hanging 1.5 s, like an upstream timing out, so the
 * callers feel it: bookinfo otherwise hides a failing ratings behind a 200 page); the analyzer, with its
 * built-in rules and the real root-cause finder, fires on productpage and reviews within two rounds
 * naming ratings, and resolves once the fault stopped. The analyzer's clock is set, so the rounds look
 * at the simulated minutes; the rounds themselves run on the real loop with a short interval. Two webhook
 * outputs on a loopback receiver get the notifications: one per alert, and one per incident, which hears of
 * the fault once when it fires and once when it resolves.
 */

const ROUND_MS = 150;
const RATINGS_FAULT: readonly BookinfoFault[] = [
  { kind: "abort", service: "ratings", fraction: 1, status: 503 },
  { kind: "delay", service: "ratings", delayMs: 1_500 },
];

interface AlertView {
  id: string;
  rule: string;
  entity: string;
  state: string;
  incidentId?: string;
  rootCause: { service: string; reason: string; evidence: { kind: string; summary: string }[] } | null;
}

describe("analyzer end to end: ratings fails, productpage and reviews alert, root cause ratings, then resolve", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  let clockMs = at(10);
  let stand: BookinfoStand;
  let receiver: Receiver;
  const perAlert = (): WebhookPayload[] => receiver.requests.filter((request) => request.url === "/per-alert").map((request) => JSON.parse(request.body) as WebhookPayload);
  const perIncident = (): IncidentWebhookPayload[] => receiver.requests.filter((request) => request.url === "/per-incident").map((request) => JSON.parse(request.body) as IncidentWebhookPayload);
  const incidentChanges = (id: string): string[] => perIncident().filter((body) => body.incident.id === id).map((body) => body.change);
  let ratingsIncident = "";
  const alerts = async (query = ""): Promise<AlertView[]> => (await stand.app.inject({ method: "GET", url: `/api/v1/alerts${query}` })).json<AlertView[]>();

  before(async () => {
    receiver = await startReceiver();
    const webhook = (name: string, notify: string) => ({ name, type: "webhook", url: `${receiver.url}/${name}`, notify });
    stand = await startBookinfoStand({ now: () => clockMs, roundMs: ROUND_MS, firstMinuteMs: at(30), outputs: { targets: [webhook("per-alert", "alert"), webhook("per-incident", "incident")] } });
  });

  after(async () => {
    await stand.close();
    await receiver.close();
  });

  it("fires on productpage and reviews within two rounds, with ratings as the root cause and its evidence", async () => {
    await stand.play(at(25), 10, [], 1);
    await stand.play(at(15), 5, RATINGS_FAULT, 2);
    await stand.startAnalysis();
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= 2, "two analysis rounds", 20_000);

    const firing = await alerts("?state=firing");
    const onService = (service: string) => firing.filter((alert) => alert.entity === service);
    for (const service of ["productpage.default", "reviews.default"]) {
      assert.ok(onService(service).length > 0, `an alert fires on ${service}: ${JSON.stringify(firing.map((alert) => `${alert.rule} ${alert.entity}`))}`);
      for (const alert of onService(service)) {
        assert.equal(alert.rootCause?.service, "ratings.default", `${alert.rule} on ${service}: ${alert.rootCause?.reason ?? "no root cause"}`);
        assert.ok((alert.rootCause?.evidence.length ?? 0) > 0, "the verdict carries evidence");
      }
    }
    // One fault, one incident: every alert blaming ratings carries the same incident id, listed once.
    const blamingRatings = firing.filter((alert) => alert.rootCause?.service === "ratings.default");
    const incidentIds = new Set(blamingRatings.map((alert) => alert.incidentId));
    assert.equal(incidentIds.size, 1, JSON.stringify(blamingRatings.map((alert) => `${alert.rule} ${alert.entity} ${alert.incidentId ?? "none"}`)));
    const incidents = (await stand.app.inject({ method: "GET", url: "/api/v1/incidents?state=firing" })).json<{ id: string; subject: string; alertIds: string[]; rootCause: { service: string } | null }[]>();
    const ofRatings = incidents.filter((incident) => incident.subject === "ratings.default");
    assert.equal(ofRatings.length, 1);
    assert.equal(ofRatings[0]?.id, [...incidentIds][0]);
    assert.deepEqual([...(ofRatings[0]?.alertIds ?? [])].sort(), blamingRatings.map((alert) => alert.id).sort());
    assert.equal(ofRatings[0]?.rootCause?.service, "ratings.default");

    const verdict = onService("productpage.default")[0]!.rootCause!;
    assert.ok(verdict.evidence.some((item) => item.kind === "sample" && item.summary.startsWith("503 ")), `503 samples of ratings: ${JSON.stringify(verdict.evidence.map((item) => item.summary))}`);
    const detail = (await stand.app.inject({ method: "GET", url: `/api/v1/alerts/${onService("productpage.default")[0]!.id}` })).json<{ timeline: { event: string }[]; evidence: { metric: unknown[]; rootCause: unknown[] } }>();
    assert.ok(detail.timeline.some((event) => event.event === "root-cause"));
    assert.ok(detail.evidence.metric.length > 0 && detail.evidence.rootCause.length > 0);

    const samples = parsePromText((await stand.app.inject({ method: "GET", url: "/metrics" })).body);
    assert.ok((sampleValue(samples, "meshsight_alerts", { state: "firing" }) ?? 0) >= 2);
    assert.equal(sampleValue(samples, "meshsight_service_health", { service: "ratings.default" }), 3, "ratings is unhealthy");
    assert.ok((sampleValue(samples, "meshsight_analyzer_rounds_total", { result: "ok" }) ?? 0) >= 2);

    // Per alert, each alert pages; per incident, the fault pages once, listing the alerts that fired with it.
    ratingsIncident = [...incidentIds][0] ?? "";
    await waitFor(() => perAlert().filter((body) => body.change === "firing" && body.alert.incidentId === ratingsIncident).length === blamingRatings.length, "a firing webhook per alert", 10_000);
    await waitFor(() => incidentChanges(ratingsIncident).length > 0, "the incident's firing webhook", 10_000);
    assert.ok(blamingRatings.length >= 2);
    assert.deepEqual(incidentChanges(ratingsIncident).filter((change) => change === "firing"), ["firing"], JSON.stringify(incidentChanges(ratingsIncident)));
    const [incidentFiring] = perIncident().filter((body) => body.incident.id === ratingsIncident && body.change === "firing");
    assert.equal(incidentFiring?.incident.subject, "ratings.default");
    assert.equal(incidentFiring.incident.rootCause?.service, "ratings.default");
    const announced = incidentFiring.incident.alerts.map((alert) => alert.id);
    assert.equal(incidentFiring.incident.alertCount, announced.length);
    for (const id of announced) assert.ok(blamingRatings.some((alert) => alert.id === id), `${id} is one of the incident's alerts`);
    assert.ok(announced.length >= 2, "the alerts that fired together are announced together");
    const linked = await stand.app.inject({ method: "GET", url: new URL(incidentFiring.incident.url).pathname });
    assert.equal(linked.statusCode, 200, "the incident's link opens");
    assert.equal(linked.json<{ id: string }>().id, ratingsIncident);

    const firingNotices = stand.dispatcher.sent.filter((each) => each.change === "firing" && ["productpage.default", "reviews.default"].includes(each.alert.entity));
    assert.ok(firingNotices.length >= 2 && firingNotices.every((each) => each.alert.rootCause?.service === "ratings.default"), "the outputs got the verdict with the firing notification");
  });

  it("resolves the alerts once the fault stopped", async () => {
    await stand.play(at(10), 6, [], 3);
    const roundsBefore = stand.analyzer.internals.loop.rounds();
    clockMs = at(3);
    await waitFor(() => stand.analyzer.internals.loop.rounds() >= roundsBefore + 2, "two more rounds", 20_000);
    const stillFiring = await alerts("?state=firing");
    assert.deepEqual(stillFiring.map((alert) => `${alert.rule} ${alert.entity}`), []);
    for (const service of ["productpage.default", "reviews.default"]) {
      assert.ok(stand.dispatcher.changes(service).some((change) => change.startsWith("resolved ")), `${service} resolved: ${stand.dispatcher.changes(service).join(", ")}`);
    }
    await waitFor(() => incidentChanges(ratingsIncident).includes("resolved"), "the incident's resolved webhook", 10_000);
    assert.ok(perAlert().filter((body) => body.change === "resolved" && body.alert.incidentId === ratingsIncident).length >= 2, "per alert, each alert resolves on its own");
    assert.deepEqual(incidentChanges(ratingsIncident), ["firing", "resolved"], "per incident: one page when it fires, one when it resolves");
    const resolved = await alerts("?state=resolved&service=productpage.default");
    assert.ok(resolved.length > 0 && resolved.every((alert) => alert.state === "resolved"));
    const samples = parsePromText((await stand.app.inject({ method: "GET", url: "/metrics" })).body);
    assert.equal(sampleValue(samples, "meshsight_alerts", { state: "firing" }), 0);
    assert.equal(sampleValue(samples, "meshsight_service_health", { service: "ratings.default" }), 1, "ratings is healthy again");
  });
});
