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
  const firing = (record: AlertRecord): PendingNotification => ({
    record,
    change: "firing",
    markSent: () => {
      record.isFiringNotified = true;
      record.lastNotifiedMs = nowMs;
      note(record, nowMs, "notified", "firing");
    },
  });
  for (const record of changes.fired) pending.push(firing(record));
  for (const record of changes.stillFiring) {
    if (!record.isFiringNotified) {
      pending.push(firing(record));
      continue;
    }
    if (refined.has(record)) {
      pending.push({
        record,
        change: "updated",
        markSent: () => {
          record.lastNotifiedMs = nowMs;
          note(record, nowMs, "notified", "updated");
        },
      });
      continue;
    }
    const silenceMs = (rules.get(record.alert.rule)?.silencePeriodMinutes ?? 0) * MINUTE_MS;
    if (silenceMs === 0 || nowMs - record.lastNotifiedMs < silenceMs) continue;
    pending.push({ record, change: "reminder", markSent: () => (record.lastNotifiedMs = nowMs) });
  }
  for (const record of changes.resolved) {
    if (!record.isFiringNotified) continue;
    pending.push({
      record,
      change: "resolved",
      markSent: () => {
        record.lastNotifiedMs = nowMs;
        note(record, nowMs, "notified", "resolved");
      },
    });
  }
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
