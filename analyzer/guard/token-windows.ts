/**
 * KubeDefender's rate rule as pure arithmetic: an operation kind in one scope owns one token bucket per
 * window (1 minute, 5 minutes, 1 hour, 24 hours by default); each bucket holds `tokens` and refills
 * continuously at `tokens` per window, and an operation needs one token from every bucket at once. A short
 * burst is bounded by the small windows, a slow steady leak by the long ones.
 */

/** Window length by name, as operators write them in config: "30s", "1m", "5m", "1h", "24h". */
const WINDOW_NAME = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function windowDurationMs(name: string): number | undefined {
  const match = WINDOW_NAME.exec(name);
  if (!match?.[1] || !match[2]) return undefined;
  const durationMs = Number(match[1]) * (UNIT_MS[match[2]] ?? 0);
  return durationMs > 0 ? durationMs : undefined;
}

export interface TokenWindow {
  name: string;
  durationMs: number;
  /** Bucket size: operations allowed in a burst within this window. */
  tokens: number;
}

/** Windows from config (`{"1m": 5, "1h": 30}`), shortest first; names were validated by the config schema. */
export function tokenWindows(limits: Readonly<Record<string, number>>): TokenWindow[] {
  return Object.entries(limits)
    .map(([name, tokens]) => ({ name, durationMs: windowDurationMs(name) ?? 0, tokens }))
    .filter((window) => window.durationMs > 0)
    .sort((a, b) => a.durationMs - b.durationMs);
}

/** What the guard keeps per operation kind and scope (JSON, in the state file or Redis). */
export interface BucketState {
  /** Tokens left per window name when `atMs` was written. */
  tokens: Record<string, number>;
  atMs: number;
  /** Set when a bucket ran dry; operations stay refused until an operator resets it. */
  tripped?: { atMs: number; reason: string };
}

/** A bucket never seen (or unknown to the state) starts full: no history means no spending. */
export function refill(state: BucketState | undefined, windows: readonly TokenWindow[], nowMs: number): BucketState {
  const elapsedMs = state ? Math.max(0, nowMs - state.atMs) : 0;
  const tokens: Record<string, number> = {};
  for (const window of windows) {
    const left = state?.tokens[window.name];
    tokens[window.name] = left === undefined ? window.tokens : Math.min(window.tokens, left + (elapsedMs * window.tokens) / window.durationMs);
  }
  return { tokens, atMs: nowMs, ...(state?.tripped ? { tripped: state.tripped } : {}) };
}

export type SpendOutcome = { isSpent: true; state: BucketState } | { isSpent: false; state: BucketState; dryWindow: TokenWindow };

/**
 * Takes one token from every window, or none when any window has less than one: a refused operation
 * spends nothing, so the buckets say exactly how many operations happened.
 */
export function spendToken(state: BucketState | undefined, windows: readonly TokenWindow[], nowMs: number): SpendOutcome {
  const current = refill(state, windows, nowMs);
  const dryWindow = windows.find((window) => (current.tokens[window.name] ?? 0) < 1);
  if (dryWindow) return { isSpent: false, state: current, dryWindow };
  for (const window of windows) current.tokens[window.name] = (current.tokens[window.name] ?? 0) - 1;
  return { isSpent: true, state: current };
}

/** After an operator's reset every bucket is full again: they looked and decided operations may go on. */
export function resetBuckets(windows: readonly TokenWindow[], nowMs: number): BucketState {
  return refill(undefined, windows, nowMs);
}

/** The longest window: after it a bucket is full whatever happened, so untripped state may expire. */
export function longestWindowMs(windows: readonly TokenWindow[]): number {
  return Math.max(0, ...windows.map((window) => window.durationMs));
}
