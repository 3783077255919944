import type { ActionTarget } from "./action-plan.ts";
import type { ActionKind, ActionMode } from "./config.ts";

export type ActionStatus = "dry-run" | "awaiting-approval" | "expired" | "running" | "done" | "failed" | "refused" | "skipped" | "dropped" | "deduplicated";

/** What happened (or would have) for one action on one alert: the answer to "what did meshsight do?". */
export interface ActionRecord {
  id: string;
  action: string;
  kind: ActionKind;
  mode: ActionMode;
  status: ActionStatus;
  alertId: string;
  rule: string;
  service: string;
  target: ActionTarget | null;
  /** "delete pod reviews-v2-... in namespace default"; in dry-run what would have been done. */
  description: string;
  /** Why it was refused, skipped or failed; what the call returned when done. */
  detail: string;
  createdAtMs: number;
  updatedAtMs: number;
  expiresAtMs?: number;
  approvedBy?: string;
}

/**
 * Recent action records, newest last, at most `capacity`: finished ones are dropped oldest first; records
 * awaiting approval are kept until they expire, unless nothing else is left to drop.
 */
export class ActionBook {
  private readonly records = new Map<string, ActionRecord>();

  constructor(private readonly capacity: number) {}

  add(record: ActionRecord): void {
    this.records.set(record.id, record);
    if (this.records.size <= this.capacity) return;
    const victim = [...this.records.values()].find((candidate) => candidate.status !== "awaiting-approval") ?? this.records.values().next().value;
    if (victim) this.records.delete(victim.id);
  }

  get(id: string): ActionRecord | undefined {
    return this.records.get(id);
  }

  update(record: ActionRecord, change: Partial<ActionRecord>, nowMs: number): ActionRecord {
    Object.assign(record, change, { updatedAtMs: nowMs });
    return record;
  }

  /** Newest first, expiring approvals whose time has passed on the way. */
  list(nowMs: number, filter: { status?: string; limit: number }): ActionRecord[] {
    const all = [...this.records.values()];
    for (const record of all) this.expireIfDue(record, nowMs);
    return all.filter((record) => filter.status === undefined || record.status === filter.status).slice(-filter.limit).reverse();
  }

  expireIfDue(record: ActionRecord, nowMs: number): void {
    if (record.status === "awaiting-approval" && record.expiresAtMs !== undefined && nowMs >= record.expiresAtMs) {
      this.update(record, { status: "expired", detail: `nobody approved it before ${new Date(record.expiresAtMs).toISOString()}` }, nowMs);
    }
  }
}
