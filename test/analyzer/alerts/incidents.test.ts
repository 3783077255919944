import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AlertRecord } from "../../../analyzer/alerts/alert-book.ts";
import { assignIncidents, groupIncidents, INCIDENT_WINDOW_MS } from "../../../analyzer/alerts/incidents.ts";

const START_MS = Date.UTC(2026, 0, 1, 10, 0);

/** A firing alert on `entity` of `service`, blaming `cause` when given. */
function record(id: string, service: string, cause?: string, startsAtMs = START_MS): AlertRecord {
  return {
    alert: { id, rule: "service_sla_low", scope: "service", entity: service, state: "firing", message: "", labels: {}, startsAtMs, endsAtMs: 0, rootCause: cause === undefined ? null : { service: cause, instance: "", score: 0.9, reason: "errors", evidence: [] } },
    fingerprint: id, service, outputs: [], points: [], timeline: [], silencedBy: [], isFiringNotified: false,
    value: 0, threshold: 0, breachingMinutes: 0, clearSinceMs: 0, lastNotifiedMs: 0,
  };
}

describe("incidents", () => {
  it("groups alerts by root-cause service while one fires or within the window after, and starts a new one later", () => {
    const productpage = record("a-productpage", "productpage.default", "ratings.default");
    const reviews = record("a-reviews", "reviews.default", "ratings.default");
    const details = record("a-details", "details.default", undefined, START_MS + 1_000);
    const all = [productpage, reviews, details];
    assert.deepEqual(assignIncidents(all, all, START_MS), all);
    assert.equal(productpage.alert.incidentId, reviews.alert.incidentId);
    assert.notEqual(details.alert.incidentId, productpage.alert.incidentId, "no verdict: grouped by its own service");
    assert.deepEqual(assignIncidents(all, all, START_MS + 60_000), [], "an alert keeps its incident");

    for (const each of all) Object.assign(each.alert, { state: "resolved", endsAtMs: START_MS + 120_000 });
    const soon = record("a-soon", "productpage.default", "ratings.default", START_MS + 120_000 + INCIDENT_WINDOW_MS);
    assignIncidents([...all, soon], [soon], soon.alert.startsAtMs);
    assert.equal(soon.alert.incidentId, productpage.alert.incidentId, "within the window after the last alert resolved");
    Object.assign(soon.alert, { state: "resolved", endsAtMs: START_MS + 180_000 });
    const late = record("a-late", "reviews.default", "ratings.default", START_MS + 180_001 + INCIDENT_WINDOW_MS);
    assignIncidents([...all, soon, late], [late], late.alert.startsAtMs);
    assert.notEqual(late.alert.incidentId, productpage.alert.incidentId, "past the window: a new incident");

    const incidents = groupIncidents([...all, soon, late]);
    assert.deepEqual(
      incidents.map((incident) => [incident.subject, incident.state, incident.alertIds.length]),
      [
        ["ratings.default", "firing", 1],
        ["details.default", "resolved", 1],
        ["ratings.default", "resolved", 3],
      ],
    );
    assert.equal(incidents[2]?.endsAtMs, START_MS + 180_000);
  });
});
