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
