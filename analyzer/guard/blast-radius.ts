/**
 * Blast radius: never act on more than a share of one group (a service's instances, a pool's nodes) at
 * once. "At once" is the settle time: a deleted pod counts against its service until its replacement has
 * had time to become ready. The recent acts of a group are kept per group in the guard's state.
 */

/** Recent acts on one group, oldest first; bounded by MAX_ACTS. */
export interface BlastState {
  acts: Array<{ target: string; atMs: number }>;
}

const MAX_ACTS = 1_000;

export type BlastVerdict = { isAllowed: true } | { isAllowed: false; reason: string };

/** How many members may be in flight: the share rounded down, but at least one, or nothing could ever be repaired. */
export function allowedAtOnce(groupSize: number, maxShare: number): number {
  return Math.max(1, Math.floor(groupSize * maxShare));
}

function recentTargets(state: BlastState | undefined, settleMs: number, nowMs: number): Set<string> {
  return new Set((state?.acts ?? []).filter((act) => nowMs - act.atMs < settleMs).map((act) => act.target));
}

export function checkBlastRadius(state: BlastState | undefined, target: string, groupSize: number, maxShare: number, settleMs: number, nowMs: number): BlastVerdict {
  const inFlight = recentTargets(state, settleMs, nowMs);
  // Acting again on a member already in flight widens nothing.
  if (inFlight.has(target)) return { isAllowed: true };
  const allowed = allowedAtOnce(groupSize, maxShare);
  if (inFlight.size + 1 <= allowed) return { isAllowed: true };
  return { isAllowed: false, reason: `${inFlight.size} of ${groupSize} members were acted on in the last ${Math.round(settleMs / 1000)} s; one more would exceed the blast radius of ${allowed} (${Math.round(maxShare * 100)}%)` };
}

export function recordAct(state: BlastState | undefined, target: string, settleMs: number, nowMs: number): BlastState {
  const acts = (state?.acts ?? []).filter((act) => nowMs - act.atMs < settleMs);
  acts.push({ target, atMs: nowMs });
  return { acts: acts.slice(-MAX_ACTS) };
}
