import { randomUUID } from "node:crypto";
import { Counter, type Registry } from "prom-client";
import type { AuditLog } from "./audit-log.ts";
import type { CatalogGate, GateCatalog } from "./gate-catalog.ts";
import { checkView, verdictOf, type GateCheckResult, type Verdict } from "./gate-check.ts";
import { hasSloChecks, type GateDefinition } from "./gate-definition.ts";
import type { GateOverride } from "./gate-store.ts";
import { probeChecks, type ReleaseProbeCache } from "./release-probes.ts";
import { evaluateSlo, type SloReader } from "./slo-checks.ts";
import type { TtlCache } from "./ttl-cache.ts";

export interface GateDecision {
  gate: string;
  verdict: Verdict;
  checks: GateCheckResult[];
  /** Names this decision in the audit log. */
  runId: string;
  evaluatedAtMs: number;
  /** The probe runs the decision used and when they finished (they may come from the cache). */
  probeRunIds: string[];
  probesFinishedAtMs: number | null;
  override: GateOverride | null;
}

export interface Caller {
  /** Token name. */
  who: string;
  via: "api" | "flagger" | "argo";
  /** Extra audit evidence, e.g. the Flagger payload's phase and checksum. */
  context?: Record<string, unknown>;
  /** Only the probes decide (Flagger pre-rollout: the canary has no traffic yet). */
  isProbesOnly?: boolean;
}

export interface GateEvaluatorDeps {
  catalog: GateCatalog;
  probes: ReleaseProbeCache;
  reader: SloReader;
  /**
   * SLO readings per gate for a few seconds: metrics are per minute, so a reading that young is as fresh
   * as the data, and bursts (Flagger retries, several AnalysisRuns, CI fan-out) cost one storage query.
   */
  sloCache: TtlCache<GateCheckResult[]>;
  audit: AuditLog;
  registry: Registry;
  now: () => number;
}

/**
 * Runs a gate now: an override in force decides alone; otherwise the probe cases (through the cache) and
 * the SLO checks run side by side. Every decision is audited before it is returned.
 */
export class GateEvaluator {
  private readonly decisions: Counter<"gate" | "verdict" | "via">;

  constructor(private readonly deps: GateEvaluatorDeps) {
    this.decisions = new Counter({
      name: "meshsight_gate_decisions_total",
      help: "Release gate decisions, by gate, verdict and caller protocol.",
      labelNames: ["gate", "verdict", "via"],
      registers: [deps.registry],
    });
  }

  async check(gate: CatalogGate, caller: Caller): Promise<GateDecision> {
    const { definition } = gate;
    const evaluatedAtMs = this.deps.now();
    const runId = randomUUID();
    const override = this.deps.catalog.activeOverride(definition.name, evaluatedAtMs) ?? null;
    let checks: GateCheckResult[];
    let probeRunIds: string[] = [];
    let probesFinishedAtMs: number | null = null;
    if (override) {
      checks = [overrideCheck(override)];
    } else {
      const useSlo = hasSloChecks(definition) && caller.isProbesOnly !== true;
      const [probeRun, sloChecks] = await Promise.all([this.deps.probes.results(definition), useSlo ? this.sloChecks(definition, evaluatedAtMs) : []]);
      checks = [...probeChecks(definition, probeRun.value, useSlo), ...sloChecks];
      probeRunIds = [...new Set(probeRun.value.map((result) => result.runId))];
      probesFinishedAtMs = probeRun.loadedAtMs;
    }
    const decision: GateDecision = { gate: definition.name, verdict: verdictOf(checks), checks, runId, evaluatedAtMs, probeRunIds, probesFinishedAtMs, override };
    await this.deps.audit.record({
      atMs: evaluatedAtMs,
      who: caller.who,
      action: "check",
      gate: definition.name,
      via: caller.via,
      evidence: { runId, verdict: decision.verdict, checks: checks.map(checkView), probeRunIds, probesFinishedAtMs, override, ...caller.context },
    });
    this.decisions.inc({ gate: definition.name, verdict: decision.verdict, via: caller.via });
    return decision;
  }

  /** Keyed by the whole definition, so an edited gate never reuses the previous definition's reading. */
  private async sloChecks(definition: GateDefinition, nowMs: number): Promise<GateCheckResult[]> {
    return (await this.deps.sloCache.get(JSON.stringify(definition), () => evaluateSlo(this.deps.reader, definition, nowMs))).value;
  }
}

function overrideCheck(override: GateOverride): GateCheckResult {
  const isOpen = override.action === "open";
  return {
    name: "override",
    status: isOpen ? "ok" : "fail",
    observed: override.action,
    expected: "no override",
    message: `forced ${isOpen ? "open (pass)" : "closed (fail)"} by ${override.by} until ${new Date(override.expiresAtMs).toISOString()}: ${override.reason}`,
  };
}

/** A decision as the API answers it (docs/gating.md's shape plus what a caller needs to trust it). */
export function decisionView(decision: GateDecision): Record<string, unknown> {
  return {
    gate: decision.gate,
    verdict: decision.verdict,
    checks: decision.checks.map(checkView),
    runId: decision.runId,
    evaluatedAt: new Date(decision.evaluatedAtMs).toISOString(),
    probeRunIds: decision.probeRunIds,
    probesFinishedAt: decision.probesFinishedAtMs === null ? null : new Date(decision.probesFinishedAtMs).toISOString(),
    override: decision.override,
  };
}
