import type { Logger } from "pino";

const DEFAULT_INTERVAL_MS = 10_000;
/** Keys are fixed by the code (per connection, per queue, per reject reason), never by input; the cap is a safety net. */
const MAX_KEYS = 1_000;

/**
 * Logs a recurring problem (Redis down, a schedule that cannot enqueue, a flood of bad input, a file
 * that cannot be read) at most once per key and interval, with how many repeats were suppressed since:
 * an outage shows in the log without a line per attempt.
 */
export class RateLimitedLog {
  private readonly lastLogged = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `occurrences` is how many repeats this call stands for (a batch of rejects counts as many). */
  warn(key: string, fields: Record<string, unknown>, message: string, occurrences = 1): void {
    const nowMs = this.now();
    const state = this.lastLogged.get(key);
    if (state && nowMs - state.atMs < this.intervalMs) {
      state.suppressed += occurrences;
      return;
    }
    if (!state && this.lastLogged.size >= MAX_KEYS) this.lastLogged.clear();
    this.lastLogged.set(key, { atMs: nowMs, suppressed: 0 });
    this.logger.warn({ ...fields, suppressedSinceLastLog: state?.suppressed ?? 0 }, message);
  }
}
