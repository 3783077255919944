import { createHmac } from "node:crypto";
import type { Alert } from "../../../core/model/alert.ts";
import type { IncidentNotice } from "../../alerts/notification.ts";
import { httpStatusVerdict, JSON_HEADERS, sendsToPeople, type NotificationChange, type OutputAdapter } from "./adapter.ts";
import { alertLink, isoTime, withAbsoluteRefs } from "./alert-text.ts";

/** The generic webhook body, documented in docs/alerting.md ("Outputs"); `version` changes only on breaking changes. */
export interface WebhookPayload {
  version: "1";
  source: "meshsight";
  /** "updated": the root cause changed or sharpened while firing. "repeat" (a lease re-send) never reaches a webhook. */
  change: NotificationChange;
  sentAt: string;
  alert: {
    id: string;
    rule: string;
    scope: Alert["scope"];
    entity: string;
    state: Alert["state"];
    message: string;
    labels: Record<string, string>;
    startsAt: string;
    /** null while firing. */
    endsAt: string | null;
    url: string;
    /** The incident it belongs to (docs/alerting.md, "Incidents"); null for an alert from before incidents. */
    incidentId: string | null;
    rootCause: Alert["rootCause"];
  };
}

/** The body of an output with `notify: incident`: the incident and its alerts instead of one alert. */
export interface IncidentWebhookPayload {
  version: "1";
  source: "meshsight";
  change: NotificationChange;
  sentAt: string;
  incident: {
    id: string;
    subject: string;
    state: Alert["state"];
    startsAt: string;
    endsAt: string | null;
    url: string;
    rootCause: Alert["rootCause"];
    alertCount: number;
    alerts: WebhookPayload["alert"][];
  };
}

export const SIGNATURE_HEADER = "x-meshsight-signature";
export const TIMESTAMP_HEADER = "x-meshsight-timestamp";

/**
 * hex(HMAC-SHA256(secret, "<unix seconds>." + body)), the scheme Stripe and Slack use: the timestamp inside
 * the signed text lets a receiver refuse replays of an old body.
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex")}`;
}

function alertPart(alert: Alert, publicUrl: string): WebhookPayload["alert"] {
  return {
    id: alert.id,
    rule: alert.rule,
    scope: alert.scope,
    entity: alert.entity,
    state: alert.state,
    message: alert.message,
    labels: alert.labels,
    startsAt: isoTime(alert.startsAtMs),
    endsAt: alert.endsAtMs > 0 ? isoTime(alert.endsAtMs) : null,
    url: alertLink(publicUrl, alert),
    incidentId: alert.incidentId ?? null,
    rootCause: alert.rootCause === null ? null : withAbsoluteRefs(alert.rootCause, publicUrl),
  };
}

function incidentPart(incident: IncidentNotice, incidentAlert: Alert, publicUrl: string): IncidentWebhookPayload["incident"] {
  return {
    id: incident.id,
    subject: incident.subject,
    state: incident.state,
    startsAt: isoTime(incident.startsAtMs),
    endsAt: incident.endsAtMs > 0 ? isoTime(incident.endsAtMs) : null,
    url: alertLink(publicUrl, incidentAlert),
    rootCause: incident.rootCause === null ? null : withAbsoluteRefs(incident.rootCause, publicUrl),
    alertCount: incident.alertCount,
    alerts: incident.alerts.map((alert) => alertPart(alert, publicUrl)),
  };
}

export const webhookAdapter: OutputAdapter = {
  sendsChange: sendsToPeople,
  render({ alert, change, incident }, { target, nowMs, publicUrl }) {
    const envelope = { version: "1", source: "meshsight", change, sentAt: isoTime(nowMs) } as const;
    const payload: WebhookPayload | IncidentWebhookPayload = incident === undefined ? { ...envelope, alert: alertPart(alert, publicUrl) } : { ...envelope, incident: incidentPart(incident, alert, publicUrl) };
    const body = JSON.stringify(payload);
    if (target.secret === undefined) return { url: target.url, headers: { ...JSON_HEADERS }, body };
    const timestampSeconds = Math.floor(nowMs / 1000);
    return {
      url: target.url,
      headers: { ...JSON_HEADERS, [TIMESTAMP_HEADER]: String(timestampSeconds), [SIGNATURE_HEADER]: webhookSignature(target.secret, timestampSeconds, body) },
      body,
    };
  },
  readReply: httpStatusVerdict,
};
