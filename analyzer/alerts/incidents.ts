import { createHash } from "node:crypto";
import type { RootCause } from "../../core/model/alert.ts";
import type { AlertRecord } from "./alert-book.ts";

/**
 * Incidents: alerts whose root cause is the same service, within a window, are one incident, so one
 * fault that fires on a service, its callers and a relation is paged and acted on once. Nothing is kept
 * apart from the alerts: each alert carries its incident id (and the record the subject it was grouped
 * by), so incidents survive restarts with the alert state and are bounded by the alert history.
 */

/** How long after an incident's last alert ended a new alert with the same subject still joins it. */
export const INCIDENT_WINDOW_MS = 10 * 60_000;

export interface Incident {
  id: string;
  /** The root-cause service the alerts share (the alert's own service when no cause was found). */
  subject: string;
  state: "firing" | "resolved";
  startsAtMs: number;
  /** 0 while an alert of it fires; else when its last alert resolved. */
  endsAtMs: number;
  alertIds: string[];
  rootCause: RootCause | null;
}

/** What an alert is grouped by: its verdict's service, else its own service or entity. */
export function incidentSubject(record: AlertRecord): string {
  return record.alert.rootCause?.service || record.service || record.alert.entity;
}

/**
 * Gives each of `active` without an incident one: the incident of the same subject that still fires or
 * ended within the window, else a new one. Returns the records it assigned (for their timelines).
 */
export function assignIncidents(all: readonly AlertRecord[], active: readonly AlertRecord[], nowMs: number, windowMs = INCIDENT_WINDOW_MS): AlertRecord[] {
  const open = new Map<string, Incident>();
  for (const incident of groupIncidents(all)) {
    const isOpen = incident.state === "firing" || nowMs - incident.endsAtMs <= windowMs;
    const known = open.get(incident.subject);
    if (isOpen && (known === undefined || known.startsAtMs < incident.startsAtMs)) open.set(incident.subject, incident);
  }
  const assigned: AlertRecord[] = [];
  for (const record of active) {
    if (record.alert.incidentId !== undefined) continue;
    const subject = incidentSubject(record);
    let incident = open.get(subject);
    if (incident === undefined) {
      incident = { id: incidentId(subject, nowMs), subject, state: "firing", startsAtMs: nowMs, endsAtMs: 0, alertIds: [], rootCause: record.alert.rootCause };
      open.set(subject, incident);
    }
    record.alert.incidentId = incident.id;
    record.incidentSubject = subject;
    assigned.push(record);
  }
  return assigned;
}

/** The incidents of the alerts kept, newest first. */
export function groupIncidents(records: readonly AlertRecord[]): Incident[] {
  const byId = new Map<string, Incident>();
  for (const record of records) {
    const { alert } = record;
    if (alert.incidentId === undefined) continue;
    let incident = byId.get(alert.incidentId);
    if (incident === undefined) {
      incident = { id: alert.incidentId, subject: record.incidentSubject ?? incidentSubject(record), state: "resolved", startsAtMs: alert.startsAtMs, endsAtMs: 0, alertIds: [], rootCause: null };
      byId.set(alert.incidentId, incident);
    }
    incident.alertIds.push(alert.id);
    incident.startsAtMs = Math.min(incident.startsAtMs, alert.startsAtMs);
    if (alert.state === "firing") incident.state = "firing";
    incident.endsAtMs = Math.max(incident.endsAtMs, alert.endsAtMs);
    if (incident.rootCause === null || (alert.rootCause !== null && alert.rootCause.score > incident.rootCause.score)) incident.rootCause = alert.rootCause;
  }
  const incidents = [...byId.values()];
  for (const incident of incidents) if (incident.state === "firing") incident.endsAtMs = 0;
  return incidents.sort((a, b) => b.startsAtMs - a.startsAtMs || a.id.localeCompare(b.id));
}

function incidentId(subject: string, nowMs: number): string {
  return `inc-${createHash("sha256").update(subject).digest("hex").slice(0, 12)}-${nowMs.toString(36)}`;
}
