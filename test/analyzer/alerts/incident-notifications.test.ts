import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AlertRecord } from "../../../analyzer/alerts/alert-book.ts";
import { incidentNotifications, type SentAlertNotification } from "../../../analyzer/alerts/incident-notifications.ts";

const START_MS = Date.UTC(2026, 0, 1, 10, 0);

/** A firing alert of incident "inc-1" whose firing went out when `isNotified`. */
function record(id: string, outputs: string[], isNotified = true): AlertRecord {
  return {
    alert: { id, rule: "service_sla_low", scope: "service", entity: `${id}.default`, state: "firing", message: "", labels: {}, startsAtMs: START_MS, endsAtMs: 0, incidentId: "inc-1", rootCause: { service: "ratings.default", instance: "", score: 0.9, reason: "errors", evidence: [] } },
    fingerprint: id, service: `${id}.default`, outputs, points: [], timeline: [], silencedBy: [], isFiringNotified: isNotified, incidentSubject: "ratings.default",
    value: 0, threshold: 0, breachingMinutes: 0, clearSinceMs: 0, lastNotifiedMs: 0,
  };
}

const resolve = (each: AlertRecord): void => void Object.assign(each.alert, { state: "resolved", endsAtMs: START_MS + 300_000 });
const changesOf = (sent: SentAlertNotification[], all: AlertRecord[]): string[] => incidentNotifications(sent, all).map((each) => `${each.change} ${each.incident.id} ${each.incident.alertCount}`);

describe("incident notifications", () => {
  it("pages once per incident and round: firing, updated when an alert joins or a cause is refined, resolved with its last alert", () => {
    const productpage = record("productpage", ["chat"]);
    const reviews = record("reviews", ["hook"]);
    const fired: SentAlertNotification[] = [{ record: productpage, change: "firing" }, { record: reviews, change: "firing" }];
    const [first] = incidentNotifications(fired, [productpage, reviews]);
    assert.equal(first?.change, "firing");
    assert.deepEqual(first.incident.alerts.map((alert) => alert.id), ["productpage", "reviews"]);
    assert.deepEqual(first.outputs, ["chat", "hook"], "the union of its alerts' outputs");

    const relation = record("relation", []);
    assert.deepEqual(changesOf([{ record: relation, change: "firing" }], [productpage, reviews, relation]), ["updated inc-1 3"], "an alert joining an announced incident");
    assert.deepEqual(incidentNotifications([{ record: relation, change: "firing" }], [productpage, reviews, relation])[0]?.outputs, [], "an alert for every output makes the incident's for every output");
    assert.deepEqual(changesOf([{ record: productpage, change: "updated" }, { record: reviews, change: "updated" }], [productpage, reviews, relation]), ["updated inc-1 3"]);
    assert.deepEqual(changesOf([{ record: productpage, change: "reminder" }, { record: reviews, change: "reminder" }], [productpage, reviews, relation]), ["reminder inc-1 3"]);

    resolve(productpage);
    assert.deepEqual(changesOf([{ record: productpage, change: "resolved" }], [productpage, reviews, relation]), [], "others still fire: nothing new");
    resolve(reviews);
    resolve(relation);
    assert.deepEqual(changesOf([{ record: reviews, change: "resolved" }, { record: relation, change: "resolved" }], [productpage, reviews, relation]), ["resolved inc-1 3"]);
  });

  it("announces again an incident told resolved when a new alert joins it, and ignores alerts without an incident", () => {
    const old = record("old", []);
    resolve(old);
    const again = record("again", [], false);
    assert.deepEqual(changesOf([{ record: again, change: "firing" }], [old, again]), ["firing inc-1 2"]);
    const loose = record("loose", []);
    delete loose.alert.incidentId;
    assert.deepEqual(changesOf([{ record: loose, change: "firing" }], [loose]), []);
  });
});
