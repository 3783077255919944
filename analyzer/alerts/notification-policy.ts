import type { AlarmRule } from "../rules/rule.ts";
import type { AlertRecord, RoundChanges, TimelineEventKind } from "./alert-book.ts";
import type { AlertNotification } from "./notification.ts";

export interface PendingNotification {
  record: AlertRecord;
  change: AlertNotification["change"];
  /** Call once the outputs took it; an unsent one is retried by the next round's policy. */
  markSent(): void;
}

const MINUTE_MS = 60_000;

/**
 * Which notifications a round's changes call for:
 * - "firing" for a new alert, and for a firing one no receiver has heard of yet (it was silenced, or
 *   queueing failed);
 * - "updated" for a firing alert whose receivers heard of it when its root cause changed or sharpened this round
 *   (`refined`); it also counts as the reminder, which would say the same;
 * - "reminder" while firing, every silence-period minutes (none when 0): the only thing the silence period
 *   throttles, since it is for people. Receivers that lease alerts are kept by standingNotifications instead;
 * - "resolved" only for alerts whose firing went out: a receiver never hears of an alert only resolving.
 */
export function notificationsFor(
  changes: RoundChanges,
  refined: ReadonlySet<AlertRecord>,
  rules: ReadonlyMap<string, AlarmRule>,
  nowMs: number,
  note: (record: AlertRecord, atMs: number, event: TimelineEventKind, detail: string) => void,
): PendingNotification[] {
  const pending: PendingNotification[] = [];
  // Sending records when and, but for reminders, what went out in the timeline; a firing also marks the alert heard of.
  const notice = (record: AlertRecord, change: PendingNotification["change"]): PendingNotification => ({
    record,
    change,
    markSent: () => {
      if (change === "firing") record.isFiringNotified = true;
      record.lastNotifiedMs = nowMs;
      if (change !== "reminder") note(record, nowMs, "notified", change);
    },
  });
  for (const record of changes.fired) pending.push(notice(record, "firing"));
  for (const record of changes.stillFiring) {
    if (!record.isFiringNotified) pending.push(notice(record, "firing"));
    else if (refined.has(record)) pending.push(notice(record, "updated"));
    else {
      const silenceMs = (rules.get(record.alert.rule)?.silencePeriodMinutes ?? 0) * MINUTE_MS;
      if (silenceMs > 0 && nowMs - record.lastNotifiedMs >= silenceMs) pending.push(notice(record, "reminder"));
    }
  }
  for (const record of changes.resolved) if (record.isFiringNotified) pending.push(notice(record, "resolved"));
  return pending;
}

/**
 * The firing alerts whose receivers heard of them and that no silence mutes, as "repeat" notifications: the outputs
 * re-send them on their own timer so that leases (Alertmanager's endsAt) never lapse while an alert fires.
 */
export function standingNotifications(firing: readonly AlertRecord[]): AlertNotification[] {
  return firing
    .filter((record) => record.isFiringNotified && record.silencedBy.length === 0)
    .map((record) => ({ alert: structuredClone(record.alert), change: "repeat", outputs: record.outputs }));
}
