import type { AlertRecord } from "./alert-book.ts";
import { groupIncidents } from "./incidents.ts";
import { MAX_INCIDENT_ALERTS, type AlertNotification, type IncidentNotification } from "./notification.ts";

/** A per-alert notification the outputs took this round. */
export interface SentAlertNotification {
  record: AlertRecord;
  change: AlertNotification["change"];
}

/**
 * Turns one round's per-alert notifications into at most one per incident, for receivers that page per
 * incident: a fault that fires on a service, its callers and a relation in one round is one "firing"; an alert
 * joining later or a refined cause is an "updated"; the incident is "resolved" when its last firing alert is.
 * An alert resolving while others of its incident still fire tells nobody anything new. Nothing is kept: whether
 * an incident was announced is read from its alerts (one that still fires and whose firing went out earlier).
 */
export function incidentNotifications(sent: readonly SentAlertNotification[], all: readonly AlertRecord[]): IncidentNotification[] {
  const sentByIncident = new Map<string, SentAlertNotification[]>();
  for (const each of sent) {
    const id = each.record.alert.incidentId;
    if (id !== undefined) sentByIncident.set(id, [...(sentByIncident.get(id) ?? []), each]);
  }
  if (sentByIncident.size === 0) return [];
  const records = new Map(all.map((record) => [record.alert.id, record]));
  const notifications: IncidentNotification[] = [];
  for (const incident of groupIncidents(all)) {
    const ofRound = sentByIncident.get(incident.id);
    if (ofRound === undefined) continue;
    const members = incident.alertIds.map((id) => records.get(id)).filter((record) => record !== undefined);
    const change = incidentChange(ofRound, members);
    if (change === null) continue;
    const alerts = members.map((record) => structuredClone(record.alert)).sort((a, b) => a.startsAtMs - b.startsAtMs || a.id.localeCompare(b.id));
    notifications.push({
      incident: { id: incident.id, subject: incident.subject, state: incident.state, startsAtMs: incident.startsAtMs, endsAtMs: incident.endsAtMs, rootCause: incident.rootCause, alerts: alerts.slice(0, MAX_INCIDENT_ALERTS), alertCount: alerts.length },
      change,
      outputs: members.some((record) => record.outputs.length === 0) ? [] : [...new Set(members.flatMap((record) => record.outputs))].sort(),
    });
  }
  return notifications;
}

function incidentChange(ofRound: readonly SentAlertNotification[], members: readonly AlertRecord[]): IncidentNotification["change"] | null {
  const changes = new Set(ofRound.map((each) => each.change));
  const firedNow = new Set(ofRound.filter((each) => each.change === "firing").map((each) => each.record));
  if (firedNow.size > 0) {
    const wasAnnounced = members.some((record) => !firedNow.has(record) && record.alert.state === "firing" && record.isFiringNotified);
    return wasAnnounced ? "updated" : "firing";
  }
  if (changes.has("updated")) return "updated";
  if (changes.has("resolved")) return members.some((record) => record.alert.state === "firing") ? null : "resolved";
  return changes.has("reminder") ? "reminder" : null;
}
