/**
 * What changed in the verdict's service shortly before its symptoms began, as meshsight saw it in the traffic
 * its instances served: an instance (a pod, with the version the collector learned from its proxy) that first
 * served traffic, or stopped serving, within CHANGE_LOOKBACK_MS before the symptom's start, and a probe case of
 * the service that started failing before it. A user reads "began 3 min after reviews v2
 * (reviews-v2-7b8f6d9c5-qz2lp.default) first served traffic". Two storage queries.
 */
import type { MetricAggregate } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { QueryBudget } from "./query-budget.ts";

export interface RecentChange {
  kind: "instance-appeared" | "instance-stopped" | "probe-failing" | "probe-case-changed" | "release-gate";
  /** The instance that appeared or stopped ("" for a probe). */
  instance: string;
  /** The probe case that started failing or was changed ("" otherwise). */
  probe: string;
  /** The instance's version label ("" when unknown). */
  version: string;
  /** The release gate acted on ("" for other changes; release-changes.ts). */
  gate: string;
  atMs: number;
  /** "began 3 min after reviews v2 (reviews-v2-1.default) first served traffic" */
  summary: string;
}

/** How far before the symptom's start a change is still "shortly before". */
export const CHANGE_LOOKBACK_MS = 15 * 60_000;
const MINUTE_MS = 60_000;
/** Instances whose version is looked up; a service has a handful, a misbehaving one is bounded. */
const MAX_INSTANCES = 1_000;

export async function findRecentChanges(reader: StorageReader, budget: QueryBudget, service: string, symptomStartMs: number, nowMs: number, maxChanges: number): Promise<RecentChange[]> {
  // One minute before the lookback shows which instances served already.
  const fromMs = Math.floor((symptomStartMs - CHANGE_LOOKBACK_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  const rows = await budget.run(`instance series of ${service}`, [], () => reader.queryMetrics({ scope: "instance", service, fromMs, toMs: nowMs, resolution: "minute", groupByTime: true }));
  const moves = instanceMoves(rows, fromMs, nowMs, symptomStartMs);
  if (moves.length === 0) return [];
  const entities = await budget.run(`instances of ${service}`, [], () => reader.listEntities({ kind: "instance", service, seenSinceMs: fromMs, limit: MAX_INSTANCES }));
  const versions = new Map(entities.map((entity) => [entity.name, entity.attributes["version"] ?? ""]));
  const shortName = service.split(".")[0] ?? service;
  return moves
    .sort((a, b) => b.atMs - a.atMs || a.instance.localeCompare(b.instance))
    .slice(0, maxChanges)
    .map((move): RecentChange => {
      const version = versions.get(move.instance) ?? "";
      const who = version === "" ? move.instance : `${shortName} ${version} (${move.instance})`;
      const what = move.kind === "instance-appeared" ? "first served traffic" : "stopped serving traffic";
      return { ...move, probe: "", version, gate: "", summary: `began ${formatDuration(symptomStartMs - move.atMs)} after ${who} ${what}` };
    });
}

/** The service's probe cases that passed and then started failing shortly before the symptoms began (probe-signals.ts). */
export function probeChanges(failingSince: ReadonlyMap<string, number>, symptomStartMs: number): RecentChange[] {
  return [...failingSince]
    .filter(([, atMs]) => atMs <= symptomStartMs && symptomStartMs - atMs <= CHANGE_LOOKBACK_MS)
    .map(([probe, atMs]) => ({ kind: "probe-failing" as const, instance: "", probe, version: "", gate: "", atMs, summary: `began ${formatDuration(symptomStartMs - atMs)} after probe ${probe} started failing` }));
}

/** A probe case bound to a service, defined, redefined or deleted through the prober's API. */
export interface ProbeCaseEdit {
  probe: string;
  action: "put" | "delete";
  atMs: number;
}

/** The prober's API changes to the cases of `service` within [fromMs, toMs] (cli.ts hands them through analyzer.ts). */
export type RecentProbeCaseChanges = (service: string, fromMs: number, toMs: number) => Promise<readonly ProbeCaseEdit[]>;

/** The newest API change to each of the service's probe cases shortly before the symptoms began. */
export async function probeCaseChanges(recentCaseChanges: RecentProbeCaseChanges, service: string, symptomStartMs: number): Promise<RecentChange[]> {
  const newest = new Map<string, ProbeCaseEdit>();
  for (const edit of await recentCaseChanges(service, symptomStartMs - CHANGE_LOOKBACK_MS, symptomStartMs)) {
    if ((newest.get(edit.probe)?.atMs ?? -Infinity) <= edit.atMs) newest.set(edit.probe, edit);
  }
  return [...newest.values()].map(({ probe, action, atMs }) => ({
    kind: "probe-case-changed" as const,
    instance: "",
    probe,
    version: "",
    gate: "",
    atMs,
    summary: `began ${formatDuration(symptomStartMs - atMs)} after probe case ${probe} was ${action === "put" ? "defined or changed" : "deleted"} through the API`,
  }));
}

/** Newest first, at most `max`. */
export function newestChanges(changes: readonly RecentChange[], max: number): RecentChange[] {
  return [...changes].sort((a, b) => b.atMs - a.atMs || a.summary.localeCompare(b.summary)).slice(0, max);
}

/** Instances whose first or last served minute falls in the lookback before the symptom's start. */
function instanceMoves(rows: readonly MetricAggregate[], fromMs: number, nowMs: number, symptomStartMs: number): Omit<RecentChange, "probe" | "version" | "gate" | "summary">[] {
  const served = new Map<string, { first: number; last: number }>();
  for (const row of rows) {
    if (row.calls <= 0) continue;
    const span = served.get(row.name);
    if (span === undefined) served.set(row.name, { first: row.timeMs, last: row.timeMs });
    else served.set(row.name, { first: Math.min(span.first, row.timeMs), last: Math.max(span.last, row.timeMs) });
  }
  const isShortlyBefore = (atMs: number): boolean => atMs <= symptomStartMs && symptomStartMs - atMs <= CHANGE_LOOKBACK_MS;
  const moves: Omit<RecentChange, "probe" | "version" | "gate" | "summary">[] = [];
  for (const [instance, { first, last }] of served) {
    if (first > fromMs && isShortlyBefore(first)) moves.push({ kind: "instance-appeared", instance, atMs: first });
    // Silent for the last two whole minutes at least: the newest minute may still be on its way to storage.
    const stoppedMs = last + MINUTE_MS;
    if (stoppedMs + MINUTE_MS <= nowMs && isShortlyBefore(stoppedMs)) moves.push({ kind: "instance-stopped", instance, atMs: stoppedMs });
  }
  return moves;
}

/** "40 s" under a minute, else whole minutes: how long after a change the symptoms began. */
export function formatDuration(ms: number): string {
  return ms < MINUTE_MS ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / MINUTE_MS)} min`;
}
