import type { Alert } from "../../../core/model/alert.ts";
import { httpStatusVerdict, JSON_HEADERS, type OutputAdapter } from "./adapter.ts";
import { alertLink, evidenceLines, isoTime, rootCauseLine } from "./alert-text.ts";

/** postableAlert of Alertmanager's API v2 (api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

const ALERTS_PATH = "/api/v2/alerts";

/** The configured URL may be Alertmanager's base URL or the alerts endpoint itself. */
export function alertsEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith(ALERTS_PATH) ? trimmed : `${trimmed}${ALERTS_PATH}`;
}

/** Alertmanager 0.25 only takes classic label names; anything else would make it refuse the whole alert. */
export function labelName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * Identity in Alertmanager is the label set, so labels hold only what names the alert: the rule's own labels, then
 * alertname, scope and entity (which a rule label cannot override); what may change between sends is an annotation.
 */
export function alertLabels(alert: Alert): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(alert.labels)) if (value !== "") labels[labelName(name)] = value;
  labels.alertname = alert.rule;
  labels.scope = alert.scope;
  labels.entity = alert.entity;
  return labels;
}

function annotations(alert: Alert, publicUrl: string): Record<string, string> {
  const result: Record<string, string> = { summary: alert.message, description: `${alert.rule} on ${alert.scope} ${alert.entity}`, alert_id: alert.id, url: alertLink(publicUrl, alert) };
  if (alert.rootCause) {
    result.root_cause = rootCauseLine(alert.rootCause);
    result.root_cause_service = alert.rootCause.service;
    const evidence = evidenceLines(alert.rootCause, publicUrl);
    if (evidence.length > 0) result.root_cause_evidence = evidence.join("\n");
  }
  return result;
}

/**
 * Firing alerts carry an endsAt lease instead of none: Alertmanager would otherwise resolve them after its
 * resolve_timeout, and a lease lets them lapse on their own if meshsight stops re-sending (Prometheus does the same).
 * Resolved alerts carry their end, never in the future, so Alertmanager resolves them now.
 */
export function toPostableAlert(alert: Alert, isResolved: boolean, nowMs: number, leaseMs: number, publicUrl: string): PostableAlert {
  const endsAtMs = isResolved ? Math.max(alert.startsAtMs, Math.min(alert.endsAtMs > 0 ? alert.endsAtMs : nowMs, nowMs)) : nowMs + leaseMs;
  return {
    labels: alertLabels(alert),
    annotations: annotations(alert, publicUrl),
    startsAt: isoTime(alert.startsAtMs),
    endsAt: isoTime(endsAtMs),
    generatorURL: alertLink(publicUrl, alert),
  };
}

export const alertmanagerAdapter: OutputAdapter = {
  // "repeat" keeps the lease alive (the dispatcher spaces repeats by the re-send interval); "updated" re-posts the
  // alert at once with its new root-cause annotations; reminders are for people.
  sendsChange: (change) => change !== "reminder",
  render({ alert, change }, { target, nowMs, publicUrl, alertmanagerLeaseMs }) {
    const body = JSON.stringify([toPostableAlert(alert, change === "resolved", nowMs, alertmanagerLeaseMs, publicUrl)]);
    return { url: alertsEndpoint(target.url), headers: { ...JSON_HEADERS }, body };
  },
  readReply: httpStatusVerdict,
};
