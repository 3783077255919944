import { setTimeout as sleep } from "node:timers/promises";
import type { AccessLogEntry, ProxyIdentity } from "../../../core/model/access-log.ts";
import type { AccessLogIngest } from "../../ingest.ts";

export interface BackpressureOptions {
  /** Largest batch handed to ingest() at once. */
  batchSize: number;
  /** First wait after a refusal; doubles per refusal up to maxRetryDelayMs. */
  initialRetryDelayMs: number;
  maxRetryDelayMs: number;
  /**
   * Whether a wait keeps the process alive: no for long-running receivers (their timers are unref'd so
   * shutdown is never held up), yes for a one-shot `meshsight ingest` that must finish its input.
   */
  keepsProcessAlive?: boolean;
  /** Stops waiting (stop(), a cancelled command); the undelivered rest is reported, not lost silently. */
  signal?: AbortSignal;
}

export const DEFAULT_BACKPRESSURE: BackpressureOptions = { batchSize: 2000, initialRetryDelayMs: 10, maxRetryDelayMs: 1000 };

/**
 * Hands entries to the pipeline in order, in batches, and honours its backpressure: a refused batch is
 * retried after a growing pause, and nothing more is read meanwhile (the caller awaits this), so memory
 * stays at one decoded chunk. Returns how many entries were taken; fewer than given only when aborted.
 */
export async function deliverWithBackpressure(
  ingest: AccessLogIngest,
  proxy: ProxyIdentity,
  entries: readonly AccessLogEntry[],
  options: BackpressureOptions,
): Promise<number> {
  let delivered = 0;
  let delayMs = options.initialRetryDelayMs;
  while (delivered < entries.length) {
    const batch = delivered === 0 && entries.length <= options.batchSize ? entries : entries.slice(delivered, delivered + options.batchSize);
    if (ingest.ingest(proxy, batch)) {
      delivered += batch.length;
      delayMs = options.initialRetryDelayMs;
      continue;
    }
    if (options.signal?.aborted === true) return delivered;
    try {
      await sleep(delayMs, undefined, { ref: options.keepsProcessAlive === true, signal: options.signal });
    } catch {
      return delivered; // aborted while waiting
    }
    delayMs = Math.min(delayMs * 2, options.maxRetryDelayMs);
  }
  return delivered;
}
