import type { Alert } from "../../core/model/alert.ts";

/**
 * What the alert lifecycle hands to the outputs: one alert and why it is being sent.
 * "repeat" is sent every analysis round while an alert stays firing, so receivers that
 * expire alerts (Alertmanager's endsAt/resolve_timeout) keep seeing it.
 */
export interface AlertNotification {
  alert: Alert;
  change: "firing" | "resolved" | "repeat";
  /** Output names from the rule; empty means every configured output. */
  outputs: readonly string[];
}

/** The analyzer's only view of the outputs: enqueue a notification, never wait for delivery. */
export interface AlertDispatcher {
  /** Enqueues only; resolves once the notification is queued, never blocks on delivery. */
  dispatch(notification: AlertNotification): Promise<void>;
}
