import type { RootCause } from "../../core/model/alert.ts";

/**
 * How a firing alert's verdict moves when the root cause is asked again in a later round:
 * - "found": the first verdict;
 * - "changed": another service, or another instance of the same one;
 * - "sharpened": the same service, now narrowed to one instance (a pod that stopped serving, or alone
 *   carries the errors, shows only once the window holds enough of the fault);
 * - "refreshed": the same service and instance with newer figures and evidence; nothing to tell anyone;
 * - "kept": nothing better was found, so the verdict stays as it was.
 */
export type VerdictMove = "found" | "changed" | "sharpened" | "refreshed" | "kept";

export interface Refinement {
  move: VerdictMove;
  rootCause: RootCause | null;
}

/**
 * The verdict an alert carries after this round's analysis. A later round finding nothing, or only the
 * service an instance was already named in, keeps the sharper verdict: once a pod has been down for longer
 * than the baseline window it no longer looks "silent", yet it is still the cause.
 */
export function refineVerdict(current: RootCause | null, next: RootCause | null): Refinement {
  if (next === null) return { move: "kept", rootCause: current };
  if (current === null) return { move: "found", rootCause: next };
  if (next.service !== current.service) return { move: "changed", rootCause: next };
  if (next.instance === current.instance) return { move: "refreshed", rootCause: next };
  if (next.instance === "") return { move: "kept", rootCause: current };
  return { move: current.instance === "" ? "sharpened" : "changed", rootCause: next };
}

/** True when people and receivers should hear of the move: the cause they were told is no longer the best one. */
export function isNewsworthy(move: VerdictMove): boolean {
  return move === "changed" || move === "sharpened";
}

/** "reviews.default" or "reviews.default (reviews-v2-1.default)" */
export function verdictName(rootCause: RootCause): string {
  return rootCause.instance === "" ? rootCause.service : `${rootCause.service} (${rootCause.instance})`;
}
