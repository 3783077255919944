import type { Alert } from "../../../core/model/alert.ts";
import type { AlertNotification, IncidentNotice } from "../../alerts/notification.ts";
import type { OutputTarget } from "../config.ts";

export type NotificationChange = AlertNotification["change"];

/**
 * What one delivery job carries: the alert as it was when the analyzer sent it, and why. For an output that pages
 * per incident, `incident` is set and `alert` is the incident seen as one alert (incidentAsAlert), which every
 * text output renders as it renders an alert.
 */
export interface DeliveryNotification {
  alert: Alert;
  change: NotificationChange;
  incident?: IncidentNotice;
}

export interface RenderContext {
  target: OutputTarget;
  /** Delivery time: signatures and leases are computed per attempt, so a retry is never stale. */
  nowMs: number;
  /** meshsight's public base URL, without a trailing slash. */
  publicUrl: string;
  /** How long a firing alert stays active in Alertmanager without a re-send. */
  alertmanagerLeaseMs: number;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Whether the receiver took the message; when not, whether trying again can help (rate limit, 5xx) or not (bad token). */
export type ReplyVerdict = { ok: true } | { ok: false; retryable: boolean; reason: string };

/** One receiver protocol: which changes it wants, the exact request, and how to read the reply. */
export interface OutputAdapter {
  sendsChange(change: NotificationChange): boolean;
  render(notification: DeliveryNotification, context: RenderContext): OutgoingRequest;
  readReply(status: number, body: string): ReplyVerdict;
}

const MAX_REASON_CHARS = 200;

/**
 * Alertmanager's own rule for its receivers (notify/util.go Retrier.Check): 2xx delivered, 5xx retried,
 * anything else is permanent. 408 and 429 are retried too: the receiver said "later", not "never".
 */
export function httpStatusVerdict(status: number, body: string): ReplyVerdict {
  if (status >= 200 && status < 300) return { ok: true };
  const retryable = status >= 500 || status === 408 || status === 429;
  return { ok: false, retryable, reason: `HTTP ${status}: ${body.slice(0, MAX_REASON_CHARS)}` };
}

/**
 * Firing, resolved, root-cause updates and the rule's silence-period reminders, never lease re-sends: chat rooms and plain webhooks
 * would drown in a message every re-send interval.
 */
export function sendsToPeople(change: NotificationChange): boolean {
  return change !== "repeat";
}

export const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };
