import type { Alert, AlertState, RootCause } from "../../core/model/alert.ts";

/**
 * What the alert lifecycle hands to the outputs: one alert and why it is being sent.
 * - "firing" and "resolved": the alert started or ended; every output gets them.
 * - "updated": still firing, and its root cause changed or sharpened (another service, or one instance named).
 * - "reminder": still firing after the rule's silence-period; for people (webhooks, chat, SkyWalking hooks).
 * - "repeat": still firing, re-sent on the outputs' own timer (outputs.alertmanagerResendIntervalMs) so receivers
 *   that lease alerts (Alertmanager's endsAt) keep them active, whatever the rule's silence-period.
 */
export interface AlertNotification {
  alert: Alert;
  change: "firing" | "resolved" | "updated" | "repeat" | "reminder";
  /** Output names from the rule; empty means every configured output. */
  outputs: readonly string[];
}

/** One incident (docs/alerting.md, "Incidents") as the outputs that page per incident get it: one fault, its alerts together. */
export interface IncidentNotice {
  id: string;
  subject: string;
  state: AlertState;
  startsAtMs: number;
  /** 0 while an alert of it fires. */
  endsAtMs: number;
  /** The highest-scored verdict among its alerts. */
  rootCause: RootCause | null;
  /** Its alerts, oldest first, at most MAX_INCIDENT_ALERTS; `alertCount` says how many there are. */
  alerts: Alert[];
  alertCount: number;
}

/**
 * What an incident's receivers hear, once per incident and round whatever the number of its alerts:
 * - "firing": its first alert went out (or the first since it was last told resolved);
 * - "updated": another alert joined it, or a root cause of its alerts changed or sharpened;
 * - "reminder": an alert of it was due a reminder;
 * - "resolved": its last firing alert resolved.
 */
export interface IncidentNotification {
  incident: IncidentNotice;
  change: "firing" | "updated" | "reminder" | "resolved";
  /** The union of its alerts' rule outputs; empty means every configured output. */
  outputs: readonly string[];
}

export const MAX_INCIDENT_ALERTS = 20;

/** The analyzer's only view of the outputs: enqueue a notification, never wait for delivery. */
export interface AlertDispatcher {
  /** Enqueues only; resolves once the notification is queued, never blocks on delivery. */
  dispatch(notification: AlertNotification): Promise<void>;
  /** For receivers that page per incident (outputs with `notify: incident`); dispatchers without such receivers leave it out. */
  dispatchIncident?(notification: IncidentNotification): Promise<void>;
}

/** The alerts an owner (the analyzer, the risk guard) still holds firing, as "repeat" notifications. */
export type StandingAlerts = () => Promise<AlertNotification[]>;

/**
 * Where owners of alerts say what still stands, so the outputs can re-send it on their own timer: an alert that
 * fires longer than its lease must not lapse in Alertmanager between two person-facing notifications.
 */
export interface StandingAlertRegistry {
  add(source: StandingAlerts): void;
}

/**
 * One dispatcher that hands every notification to each of `dispatchers` (the outputs, self-healing).
 * Each is contracted never to throw; should one break that, the others still get the notification.
 */
export function fanOutDispatcher(dispatchers: readonly AlertDispatcher[], onFailure: (error: unknown) => void): AlertDispatcher {
  const fanOut = async (send: (dispatcher: AlertDispatcher) => Promise<void>): Promise<void> => {
    const settled = await Promise.allSettled(dispatchers.map(send));
    for (const outcome of settled) if (outcome.status === "rejected") onFailure(outcome.reason);
  };
  return {
    dispatch: (notification) => fanOut((dispatcher) => dispatcher.dispatch(notification)),
    dispatchIncident: (notification) => fanOut(async (dispatcher) => dispatcher.dispatchIncident?.(notification)),
  };
}
