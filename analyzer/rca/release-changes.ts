/**
 * Release acts on the verdict's service shortly before its symptoms began: a release gate checked (by Flagger
 * in some phase, Argo Rollouts' analysis or the API), forced open or closed, or redefined. The release gate
 * lives in another subsystem; analyzer/analyzer.ts hands its audit history in as `RecentReleases`.
 * A user reads "began 2 min after release gate reviews-canary was checked (Flagger phase Progressing, verdict pass)".
 */
import { CHANGE_LOOKBACK_MS, formatDuration, type RecentChange } from "./recent-changes.ts";

/** One audited act on a gate that guards a service (the release gate's audit record, as the analysis needs it). */
export interface ReleaseAct {
  gate: string;
  action: "check" | "override.open" | "override.close" | "override.clear" | "gate.put" | "gate.delete";
  via: string;
  who: string;
  atMs: number;
  verdict: string;
  phase: string;
}

/** The acts on the gates of `service` within [fromMs, toMs]; none when this process serves no release gate. */
export type RecentReleases = (service: string, fromMs: number, toMs: number) => Promise<readonly ReleaseAct[]>;

/**
 * The release acts cited for a symptom start: of repeated acts (Flagger calls a webhook every analysis interval)
 * only the newest per gate, act and phase.
 */
export async function releaseChanges(recentReleases: RecentReleases, service: string, symptomStartMs: number): Promise<RecentChange[]> {
  const acts = await recentReleases(service, symptomStartMs - CHANGE_LOOKBACK_MS, symptomStartMs);
  const newest = new Map<string, ReleaseAct>();
  for (const act of acts) {
    const key = `${act.gate}\n${act.action}\n${act.phase}`;
    if ((newest.get(key)?.atMs ?? -Infinity) <= act.atMs) newest.set(key, act);
  }
  return [...newest.values()].map((act) => ({
    kind: "release-gate",
    instance: "",
    probe: "",
    version: "",
    gate: act.gate,
    atMs: act.atMs,
    summary: `began ${formatDuration(symptomStartMs - act.atMs)} after ${describeReleaseAct(act)}`,
  }));
}

/** "release gate reviews-canary was checked (Flagger phase Progressing, verdict pass)" */
export function describeReleaseAct(act: ReleaseAct): string {
  const gate = `release gate ${act.gate}`;
  switch (act.action) {
    case "check":
      return `${gate} was checked (${callerOf(act)}, verdict ${act.verdict})`;
    case "override.open":
      return `${gate} was forced open by ${act.who}`;
    case "override.close":
      return `${gate} was forced closed by ${act.who}`;
    case "override.clear":
      return `${gate}'s override was cleared by ${act.who}`;
    case "gate.put":
      return `${gate} was redefined by ${act.who}`;
    case "gate.delete":
      return `${gate} was deleted by ${act.who}`;
  }
}

function callerOf(act: ReleaseAct): string {
  if (act.phase !== "") return `Flagger phase ${act.phase}`;
  return act.via === "argo" ? "Argo Rollouts analysis" : `by ${act.who} through the ${act.via}`;
}
