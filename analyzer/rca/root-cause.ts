/**
 * Root-cause analysis: from the services an alert fired on, walk the topology to their dependencies,
 * score every service against its own baseline (errors, latency, probes), rank candidates (deepest
 * unhealthy dependency whose dependencies are healthy first), look for one bad instance, and attach
 * evidence. Bounded per call in services, depth and storage queries (see limits.ts).
 */
import type { Logger } from "pino";
import type { RootCause } from "../../core/model/alert.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import { scoreAnomaly, type AnomalyScore } from "./anomaly.ts";
import { changeEvidence, metricEvidence, probeEvidence, sampleEvidence, traceEvidence, type EvidenceSubject, type RcaEvidence } from "./evidence.ts";
import { milliseconds, percent } from "./format.ts";
import { findInstanceFocus, type InstanceFocus } from "./instance-focus.ts";
import { resolveRcaLimits, type RcaLimits } from "./limits.ts";
import { NO_CALLS, readMeshSnapshot, type MeshSnapshot } from "./mesh-snapshot.ts";
import { readProbeSignals, type ProbeSignal } from "./probe-signals.ts";
import { QueryBudget } from "./query-budget.ts";
import { rankCandidates, type Candidate } from "./rank-candidates.ts";
import { findRecentChanges, newestChanges, probeCaseChanges, probeChanges, type RecentChange, type RecentProbeCaseChanges } from "./recent-changes.ts";
import { releaseChanges, type RecentReleases } from "./release-changes.ts";
import { pathTo, walkDependencies, type WalkedService } from "./topology-walk.ts";

export interface RootCauseRequest {
  symptomaticServices: readonly string[];
  nowMs: number;
  windowMinutes: number;
  /** When the symptoms began (the alert's start): changes of the verdict's service shortly before it are cited. */
  symptomStartMs?: number;
}

export interface RootCauseFinder {
  find(request: RootCauseRequest): Promise<RootCause | null>;
}

/** One ranked candidate, as shown next to the verdict so a reader sees what else was considered. */
export interface CandidateSummary {
  service: string;
  instance: string;
  score: number;
  /** Hops below the nearest symptomatic service. */
  depth: number;
  errorPart: number;
  latencyPart: number;
  probePart: number;
}

/** A RootCause with its ranking and evidence figures: additive, so it is a RootCause everywhere. */
export interface RankedRootCause extends RootCause {
  evidence: RcaEvidence[];
  /** Every unhealthy service considered, best first (the verdict is the first), at most maxServices. */
  candidates: CandidateSummary[];
  /** Call path from a symptomatic service to the verdict, e.g. [productpage.default, reviews.default, ratings.default]. */
  path: string[];
  /** What changed in the verdict's service shortly before the symptoms began, newest first (also in `reason`). */
  changes: RecentChange[];
}

export interface RootCauseDeps {
  reader: StorageReader;
  logger: Logger;
  now?: () => number;
  limits?: Partial<RcaLimits>;
  /** The release gate's recent acts per service (analyzer/analyzer.ts); without it no release is cited. */
  recentReleases?: RecentReleases;
  /** The prober's API changes to probe cases per service (analyzer/analyzer.ts); without it none is cited. */
  recentProbeCaseChanges?: RecentProbeCaseChanges;
}

/** A named bad instance makes the verdict sharper; it adds to the score without outranking a sicker service. */
const INSTANCE_FOCUS_BONUS = 0.1;
const BUDGET_WARNING_INTERVAL_MS = 5 * 60_000;
/** A week: longer windows are a caller's bug, and the baseline doubles what is read. */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;

export function createRootCauseFinder(deps: RootCauseDeps): RootCauseFinder {
  const limits = resolveRcaLimits(deps.limits);
  const now = deps.now ?? Date.now;
  // Every firing alert asks each round: a mesh too big for the budget would otherwise log a line per alert per minute.
  const budgetWarnings = new RateLimitedLog(deps.logger, BUDGET_WARNING_INTERVAL_MS, now);
  return {
    async find(request) {
      const symptomatic = validatedSymptoms(request, limits);
      if (symptomatic.length === 0) return null;
      const startedMs = now();
      const budget = new QueryBudget(limits.maxQueries);
      const verdict = await analyze(deps, budget, limits, symptomatic, request);
      deps.logger.debug(
        { component: "analyzer", symptomatic, verdict: verdict?.service ?? null, score: verdict?.score ?? 0, queries: budget.queriesUsed, skipped: budget.skippedSteps, elapsedMs: now() - startedMs },
        "root-cause analysis done",
      );
      if (budget.skippedSteps.length > 0) {
        budgetWarnings.warn("query-budget", { component: "analyzer", skipped: budget.skippedSteps, maxQueries: limits.maxQueries }, "root-cause analysis hit its query budget; the verdict has less evidence");
      }
      return verdict;
    },
  };
}

function validatedSymptoms(request: RootCauseRequest, limits: RcaLimits): string[] {
  if (!Number.isFinite(request.nowMs)) throw new Error(`root cause: nowMs must be epoch milliseconds, got ${request.nowMs}`);
  if (!Number.isInteger(request.windowMinutes) || request.windowMinutes < 1 || request.windowMinutes > MAX_WINDOW_MINUTES) {
    throw new Error(`root cause: windowMinutes must be an integer from 1 to ${MAX_WINDOW_MINUTES}, got ${request.windowMinutes}`);
  }
  return [...new Set(request.symptomaticServices.filter((service) => service !== ""))].slice(0, limits.maxServices);
}

async function analyze(deps: RootCauseDeps, budget: QueryBudget, limits: RcaLimits, symptomatic: string[], request: RootCauseRequest): Promise<RankedRootCause | null> {
  const { reader } = deps;
  const snapshot = await readMeshSnapshot(reader, budget, request.nowMs, request.windowMinutes);
  const walk = walkDependencies(symptomatic, snapshot.callees, limits);
  const walked = new Map(walk.services.map((step) => [step.service, step]));
  const probes = await readProbeSignals(reader, budget, snapshot.current, [...walked.keys()], limits);
  const anomalies = new Map<string, AnomalyScore>();
  for (const service of walked.keys()) {
    anomalies.set(service, scoreAnomaly(snapshot.now.get(service) ?? NO_CALLS, snapshot.before.get(service) ?? NO_CALLS, probes.get(service), limits));
  }
  const ranked = rankCandidates(walk.services, anomalies, snapshot.callees, limits.unhealthyScore);
  if (ranked.length === 0) return null;
  const focused = await focusInstances(reader, budget, snapshot, ranked, limits);
  const [top] = focused;
  if (top === undefined) return null;
  const subject: EvidenceSubject = {
    service: top.service,
    focus: top.focus,
    now: snapshot.now.get(top.service) ?? NO_CALLS,
    before: snapshot.before.get(top.service) ?? NO_CALLS,
    probes: probes.get(top.service),
    callers: [...(snapshot.callers.get(top.service) ?? [])].sort(),
  };
  const { symptomStartMs } = request;
  const [samples, traces, instanceChanges, releases, caseEdits] = await Promise.all([
    sampleEvidence(reader, budget, subject, snapshot.current, limits.maxEvidencePerKind),
    traceEvidence(reader, budget, top.service, snapshot.current, limits.maxEvidencePerKind),
    symptomStartMs === undefined ? [] : findRecentChanges(reader, budget, top.service, symptomStartMs, request.nowMs, limits.maxEvidencePerKind),
    symptomStartMs === undefined || deps.recentReleases === undefined ? [] : releaseChanges(deps.recentReleases, top.service, symptomStartMs),
    symptomStartMs === undefined || deps.recentProbeCaseChanges === undefined ? [] : probeCaseChanges(deps.recentProbeCaseChanges, top.service, symptomStartMs),
  ]);
  const changes = symptomStartMs === undefined ? [] : newestChanges([...instanceChanges, ...releases, ...caseEdits, ...probeChanges(subject.probes?.failingSince ?? new Map(), symptomStartMs)], limits.maxEvidencePerKind);
  const path = pathTo(top.service, walked);
  return {
    service: top.service,
    instance: top.focus?.instance ?? "",
    score: round(top.score),
    reason: [explain(top, subject, path, walked), ...changes.map((change) => change.summary)].join("; "),
    evidence: [...metricEvidence(subject, snapshot.current), ...probeEvidence(subject, snapshot.current), ...changeEvidence(top.service, changes, request.nowMs), ...samples, ...traces],
    changes,
    candidates: focused.map((candidate) => ({
      service: candidate.service,
      instance: candidate.focus?.instance ?? "",
      score: round(candidate.score),
      depth: candidate.depth,
      errorPart: round(candidate.anomaly.errorPart),
      latencyPart: round(candidate.anomaly.latencyPart),
      probePart: round(candidate.anomaly.probePart),
    })),
    path,
  };
}

interface FocusedCandidate extends Candidate {
  focus: InstanceFocus | null;
}

/** Looks for a bad instance in the leading candidates only (each look costs queries), then re-ranks. */
async function focusInstances(reader: StorageReader, budget: QueryBudget, snapshot: MeshSnapshot, ranked: readonly Candidate[], limits: RcaLimits): Promise<FocusedCandidate[]> {
  const windows = { current: snapshot.current, baseline: snapshot.baseline };
  const focused = await Promise.all(
    ranked.map(async (candidate, index): Promise<FocusedCandidate> => {
      if (index >= limits.maxInstanceChecks) return { ...candidate, focus: null };
      const focus = await findInstanceFocus(reader, budget, candidate.service, candidate.anomaly, windows, limits);
      return { ...candidate, focus, score: focus === null ? candidate.score : Math.min(1, candidate.score + INSTANCE_FOCUS_BONUS) };
    }),
  );
  return focused.sort((a, b) => b.score - a.score || b.depth - a.depth || a.service.localeCompare(b.service));
}

function explain(top: FocusedCandidate, subject: EvidenceSubject, path: readonly string[], walked: ReadonlyMap<string, WalkedService>): string {
  const where =
    top.depth === 0
      ? `${top.service} is itself symptomatic`
      : `${top.service} is an unhealthy dependency ${top.depth} hop(s) below the symptoms (${path.join(" -> ")})`;
  const below =
    top.unhealthyCallees.length === 0
      ? "and none of its dependencies is unhealthy"
      : `but its dependencies ${top.unhealthyCallees.join(", ")} are unhealthy too (a cycle, or a cause of its own)`;
  const signals = signalsOf(top.anomaly, subject.now, subject.before, subject.probes);
  const instance = top.focus === null ? "" : `; concentrated on ${top.focus.instance} (${top.focus.why})`;
  const scope = walked.size > 1 ? "" : " (no dependencies known)";
  return `${where}${scope} ${below}: ${signals.join(", ")}${instance}`;
}

function signalsOf(anomaly: AnomalyScore, now: EvidenceSubject["now"], before: EvidenceSubject["before"], probes: ProbeSignal | undefined): string[] {
  const signals: string[] = [];
  if (anomaly.errorPart > 0) signals.push(`error rate ${percent(before.errorRate)} -> ${percent(now.errorRate)}`);
  if (anomaly.latencyPart > 0) signals.push(`p95 ${milliseconds(before.p95Ms)} -> ${milliseconds(now.p95Ms)}`);
  if (anomaly.probePart > 0 && probes !== undefined) signals.push(`${probes.failures} of ${probes.runs} probe runs failed`);
  return signals;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
