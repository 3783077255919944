import type { Alert } from "../../core/model/alert.ts";

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

/** The analyzer's only view of the outputs: enqueue a notification, never wait for delivery. */
export interface AlertDispatcher {
  /** Enqueues only; resolves once the notification is queued, never blocks on delivery. */
  dispatch(notification: AlertNotification): Promise<void>;
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
  return {
    dispatch: async (notification) => {
      const settled = await Promise.allSettled(dispatchers.map((dispatcher) => dispatcher.dispatch(notification)));
      for (const outcome of settled) if (outcome.status === "rejected") onFailure(outcome.reason);
    },
  };
}
