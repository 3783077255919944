import type { AlertRecord } from "../alerts/alert-book.ts";
import type { Incident } from "../alerts/incidents.ts";

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/** An alert as lists show it. */
export function alertSummary(record: AlertRecord): Record<string, unknown> {
  const { alert } = record;
  return {
    ...alert,
    startsAt: iso(alert.startsAtMs),
    endsAt: iso(alert.endsAtMs),
    fingerprint: record.fingerprint,
    service: record.service,
    value: record.value,
    threshold: record.threshold,
    breachingMinutes: record.breachingMinutes,
    silenced: record.silencedBy.length > 0,
    silencedBy: record.silencedBy,
    outputs: record.outputs,
  };
}

/** One alert in full: its rule's metric minute by minute, the root cause's evidence, and the timeline. */
export function alertDetail(record: AlertRecord): Record<string, unknown> {
  return {
    ...alertSummary(record),
    evidence: {
      metric: record.points.map((point) => ({ t: point.t, v: point.v })),
      rootCause: record.alert.rootCause?.evidence ?? [],
    },
    timeline: record.timeline.map((event) => ({ ...event, at: iso(event.atMs) })),
  };
}

/** An incident as GET /api/v1/incidents shows it. */
export function incidentView(incident: Incident): Record<string, unknown> {
  return { ...incident, startsAt: iso(incident.startsAtMs), endsAt: iso(incident.endsAtMs) };
}
