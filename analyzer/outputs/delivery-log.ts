import type { NotificationChange } from "./adapters/adapter.ts";
import type { OutputType } from "./config.ts";

/**
 * - delivered: the receiver took it; retrying: this attempt failed and another is scheduled;
 * - failed: the last attempt failed, or the receiver refused in a way retrying cannot fix;
 * - dropped: the queue was full, nothing was sent; unknown_output: a rule names an output that is not configured;
 * - superseded: a newer notification for the same alert was already delivered, so this older one was not sent.
 */
export const DELIVERY_RESULTS = ["delivered", "retrying", "failed", "dropped", "unknown_output", "superseded"] as const;
export type DeliveryResult = (typeof DELIVERY_RESULTS)[number];

export interface DeliveryRecord {
  at: string;
  atMs: number;
  output: string;
  /** null for an output that is not configured. */
  type: OutputType | null;
  alertId: string;
  rule: string;
  entity: string;
  change: NotificationChange;
  /** 1-based; 0 when nothing was attempted (dropped, unknown output). */
  attempt: number;
  maxAttempts: number;
  result: DeliveryResult;
  /** The receiver's HTTP status, null when there was no reply (connection refused, timeout) or no attempt. */
  status: number | null;
  error: string | null;
  durationMs: number;
  /** When retrying: how long until the next attempt. */
  retryInMs: number | null;
}

export interface DeliveryFilter {
  output?: string;
  alertId?: string;
  result?: DeliveryResult;
  limit: number;
}

/** The most recent delivery attempts in a fixed-size ring: memory stays flat however many alerts fire. */
export class DeliveryLog {
  private readonly ring: (DeliveryRecord | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<DeliveryRecord | undefined>(capacity);
  }

  add(record: DeliveryRecord): void {
    this.ring[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(filter: DeliveryFilter): DeliveryRecord[] {
    const matches: DeliveryRecord[] = [];
    for (let step = 1; step <= this.capacity && matches.length < filter.limit; step++) {
      const record = this.ring[(this.next - step + this.capacity) % this.capacity];
      if (record === undefined) break;
      if (filter.output !== undefined && record.output !== filter.output) continue;
      if (filter.alertId !== undefined && record.alertId !== filter.alertId) continue;
      if (filter.result !== undefined && record.result !== filter.result) continue;
      matches.push(record);
    }
    return matches;
  }
}
