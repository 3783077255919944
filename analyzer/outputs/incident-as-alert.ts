import type { Alert } from "../../core/model/alert.ts";
import type { IncidentNotice } from "../alerts/notification.ts";

/**
 * An incident seen as one alert, so every text output (chat, the delivery log) renders it as it renders an alert:
 * "[FIRING] incident: ratings.default", its alerts as the message, the incident's root cause, and a link to
 * GET /api/v1/incidents/<id>.
 */
export function incidentAsAlert(incident: IncidentNotice): Alert {
  const listed = incident.alerts.map((alert) => `${alert.rule} on ${alert.entity}${alert.state === "resolved" ? " (resolved)" : ""}`);
  const unlisted = incident.alertCount - incident.alerts.length;
  return {
    id: incident.id,
    rule: "incident",
    scope: "service",
    entity: incident.subject,
    state: incident.state,
    message: `${incident.alertCount} alert(s): ${listed.join(", ")}${unlisted > 0 ? `, and ${unlisted} more` : ""}`,
    labels: {},
    startsAtMs: incident.startsAtMs,
    endsAtMs: incident.endsAtMs,
    rootCause: incident.rootCause,
    incidentId: incident.id,
    path: `/api/v1/incidents/${encodeURIComponent(incident.id)}`,
  };
}
