import { createHash } from "node:crypto";
import type { Alert, AlertState } from "../../core/model/alert.ts";
import type { Breach } from "../rules/rule-evaluator.ts";
import type { AlarmRule } from "../rules/rule.ts";
import { renderMessage } from "./message-template.ts";

export type TimelineEventKind = "firing" | "notified" | "repeat" | "recovering" | "resolved" | "silenced" | "unsilenced" | "root-cause" | "root-cause-refined" | "incident" | "change";

export interface TimelineEvent {
  atMs: number;
  event: TimelineEventKind;
  detail: string;
}

/** An alert with what the lifecycle needs to remember about it; the API shows all of it. */
export interface AlertRecord {
  alert: Alert;
  /** Same for every episode of one rule on one entity (the dedupe key); the id adds the start time. */
  fingerprint: string;
  service: string;
  outputs: string[];
  value: number;
  threshold: number;
  breachingMinutes: number;
  /** The rule's left side minute by minute, as last evaluated. */
  points: { t: number; v: number }[];
  timeline: TimelineEvent[];
  /** When the condition last stopped holding (0 while it holds). */
  clearSinceMs: number;
  lastNotifiedMs: number;
  isFiringNotified: boolean;
  silencedBy: string[];
  /** When its root cause was last asked for (absent: never); the longest unasked go first when a round's lookups run short. */
  rootCauseCheckedMs?: number;
  /** What its incident groups by, fixed when it joined one (incidents.ts). */
  incidentSubject?: string;
}

export interface RoundChanges {
  fired: AlertRecord[];
  stillFiring: AlertRecord[];
  resolved: AlertRecord[];
}

export interface AlertBookOptions {
  maxHistory: number;
  /** Timeline events kept per alert (the oldest go first, the first "firing" stays). */
  maxTimeline?: number;
}

const MINUTE_MS = 60_000;

/**
 * The alert lifecycle: firing -> resolved, deduplicated by rule + entity. Fed once per round with the
 * breaches found; an alert resolves once its condition stayed clear for the rule's
 * recovery-observation-period (also when its entity had no data, or its rule was removed).
 * Bounded: firing alerts are bounded by rules x entities per round; resolved ones by maxHistory.
 */
export class AlertBook {
  private readonly byId = new Map<string, AlertRecord>();
  private readonly firingByFingerprint = new Map<string, AlertRecord>();
  private readonly maxTimeline: number;

  constructor(private readonly options: AlertBookOptions) {
    this.maxTimeline = options.maxTimeline ?? 100;
  }

  observe(breaches: readonly Breach[], rules: ReadonlyMap<string, AlarmRule>, nowMs: number): RoundChanges {
    const changes: RoundChanges = { fired: [], stillFiring: [], resolved: [] };
    const seen = new Set<string>();
    for (const breach of breaches) {
      const fingerprint = fingerprintOf(breach.rule.name, breach.entity.scope, breach.entity.entity);
      seen.add(fingerprint);
      const existing = this.firingByFingerprint.get(fingerprint);
      if (existing) {
        if (existing.clearSinceMs !== 0) this.note(existing, nowMs, "firing", "condition holds again");
        existing.clearSinceMs = 0;
        update(existing, breach);
        changes.stillFiring.push(existing);
        continue;
      }
      const record = this.open(breach, fingerprint, nowMs);
      changes.fired.push(record);
    }
    for (const record of this.firingByFingerprint.values()) {
      if (seen.has(record.fingerprint)) continue;
      const rule = rules.get(record.alert.rule);
      if (record.clearSinceMs === 0) {
        record.clearSinceMs = nowMs;
        this.note(record, nowMs, "recovering", rule ? "condition no longer holds" : "rule removed");
      }
      const observeMs = (rule?.recoveryObservationMinutes ?? 0) * MINUTE_MS;
      if (nowMs - record.clearSinceMs >= observeMs) {
        record.alert.state = "resolved";
        record.alert.endsAtMs = nowMs;
        this.firingByFingerprint.delete(record.fingerprint);
        this.note(record, nowMs, "resolved", `clear since ${new Date(record.clearSinceMs).toISOString()}`);
        changes.resolved.push(record);
      } else {
        changes.stillFiring.push(record);
      }
    }
    this.trimHistory();
    return changes;
  }

  note(record: AlertRecord, atMs: number, event: TimelineEventKind, detail: string): void {
    record.timeline.push({ atMs, event, detail });
    // Keep the opening event: how the alert started matters most when reading a long one.
    if (record.timeline.length > this.maxTimeline) record.timeline.splice(1, record.timeline.length - this.maxTimeline);
  }

  get(id: string): AlertRecord | undefined {
    return this.byId.get(id);
  }

  /** Newest first. */
  list(state?: AlertState): AlertRecord[] {
    const records = [...this.byId.values()].filter((record) => state === undefined || record.alert.state === state);
    return records.sort((a, b) => b.alert.startsAtMs - a.alert.startsAtMs || a.alert.id.localeCompare(b.alert.id));
  }

  firing(): AlertRecord[] {
    return [...this.firingByFingerprint.values()];
  }

  /** Everything, for the state file. */
  snapshot(): AlertRecord[] {
    return [...this.byId.values()];
  }

  restore(records: readonly AlertRecord[]): void {
    this.byId.clear();
    this.firingByFingerprint.clear();
    for (const record of records) {
      this.byId.set(record.alert.id, record);
      if (record.alert.state === "firing") this.firingByFingerprint.set(record.fingerprint, record);
    }
    this.trimHistory();
  }

  private open(breach: Breach, fingerprint: string, nowMs: number): AlertRecord {
    const { rule, entity } = breach;
    const alert: Alert = {
      id: `${fingerprint}-${nowMs.toString(36)}`,
      rule: rule.name,
      scope: entity.scope,
      entity: entity.entity,
      state: "firing",
      message: "",
      // Identity labels win over a rule's labels: receivers group and dedupe on them.
      labels: { ...rule.labels, ...entity.labels, alertname: rule.name, scope: entity.scope, entity: entity.entity },
      startsAtMs: nowMs,
      endsAtMs: 0,
      rootCause: null,
    };
    const record: AlertRecord = {
      alert,
      fingerprint,
      service: entity.service,
      outputs: [...rule.outputs],
      value: 0,
      threshold: 0,
      breachingMinutes: 0,
      points: [],
      timeline: [],
      clearSinceMs: 0,
      lastNotifiedMs: 0,
      isFiringNotified: false,
      silencedBy: [],
    };
    update(record, breach);
    this.note(record, nowMs, "firing", `${rule.expression.source}: ${breach.breachingMinutes} of ${rule.periodMinutes} minutes breaching`);
    this.byId.set(alert.id, record);
    this.firingByFingerprint.set(fingerprint, record);
    return record;
  }

  private trimHistory(): void {
    if (this.byId.size <= this.options.maxHistory) return;
    const resolved = [...this.byId.values()].filter((record) => record.alert.state === "resolved").sort((a, b) => a.alert.endsAtMs - b.alert.endsAtMs);
    for (const record of resolved.slice(0, this.byId.size - this.options.maxHistory)) this.byId.delete(record.alert.id);
  }
}

function update(record: AlertRecord, breach: Breach): void {
  record.value = breach.value;
  record.threshold = breach.threshold;
  record.breachingMinutes = breach.breachingMinutes;
  record.points = breach.points;
  record.outputs = [...breach.rule.outputs];
  record.alert.message = renderMessage(breach.rule, breach.entity, breach);
}

export function fingerprintOf(rule: string, scope: string, entity: string): string {
  return createHash("sha256").update(`${rule}\u0000${scope}\u0000${entity}`).digest("hex").slice(0, 16);
}
