import type { Logger } from "pino";
import type { RootCause } from "../core/model/alert.ts";
import type { StorageReader } from "../core/storage/port.ts";
import type { AlertBook, AlertRecord, RoundChanges } from "./alerts/alert-book.ts";
import { assignIncidents } from "./alerts/incidents.ts";
import { notificationsFor } from "./alerts/notification-policy.ts";
import type { AlertDispatcher } from "./alerts/notification.ts";
import type { SilenceBook } from "./alerts/silences.ts";
import type { AnalyzerMetrics } from "./analyzer-metrics.ts";
import { readAnalysisWindow } from "./health/analysis-window.ts";
import { BASELINE_MINUTES } from "./health/baseline-window.ts";
import { assessHealth, type EntityHealth } from "./health/health-model.ts";
import { ruleLookbackMinutes, type RuleScope } from "./rules/rule.ts";
import { findBreaches } from "./rules/rule-evaluator.ts";
import type { LoadedRules } from "./rules/rule-store.ts";

/** The root-cause finder as the analyzer uses it (analyzer/rca implements it). */
export interface RootCauseLookup {
  find(request: { symptomaticServices: readonly string[]; nowMs: number; windowMinutes: number }): Promise<RootCause | null>;
}

export interface HealthReport {
  evaluatedAtMs: number;
  windowMinutes: number;
  entities: EntityHealth[];
  /** Entities per scope left out because the scope had more than the per-round cap. */
  skipped: Record<RuleScope, number>;
}

export interface AnalysisRoundDeps {
  reader: Pick<StorageReader, "queryMetrics" | "probeSeries" | "queryProbeResults">;
  rules: () => LoadedRules;
  book: AlertBook;
  silences: SilenceBook;
  rootCauses: RootCauseLookup;
  dispatcher: AlertDispatcher;
  metrics: AnalyzerMetrics;
  logger: Logger;
  limits: { healthWindowMinutes: number; maxEntitiesPerScope: number; maxRootCauseLookups: number; rootCauseWindowMinutes: number };
}

/** Root-cause analyses tried per alert before giving up (each round retries one that found nothing). */
const MAX_ROOT_CAUSE_ATTEMPTS = 3;

/**
 * One analysis round: read the window, judge health, evaluate rules, move alerts through their
 * lifecycle, apply silences, find root causes for new alerts, and hand notifications to the outputs.
 */
export class AnalysisRound {
  private health: HealthReport | undefined;

  constructor(private readonly deps: AnalysisRoundDeps) {}

  latestHealth(): HealthReport | undefined {
    return this.health;
  }

  async run(nowMs: number): Promise<RoundChanges> {
    const { deps } = this;
    const rules = deps.rules();
    const longestPeriod = Math.max(0, ...rules.rules.map(ruleLookbackMinutes));
    const window = await readAnalysisWindow(deps.reader, {
      nowMs,
      minuteCount: Math.max(deps.limits.healthWindowMinutes, longestPeriod),
      maxEntitiesPerScope: deps.limits.maxEntitiesPerScope,
      baselineMinutes: rules.rules.some((rule) => rule.expression.kind === "comparison" && rule.expression.usesBaseline) ? BASELINE_MINUTES : 0,
    });
    deps.metrics.countSkipped(window.skipped);
    const entities = assessHealth(window, rules.health, deps.limits.healthWindowMinutes);
    this.health = { evaluatedAtMs: nowMs, windowMinutes: deps.limits.healthWindowMinutes, entities, skipped: window.skipped };
    deps.metrics.setServiceHealth(entities);

    const changes = deps.book.observe(findBreaches(rules.rules, window), rules.byName, nowMs);
    const active = [...changes.fired, ...changes.stillFiring];
    for (const record of active) this.applySilences(record, nowMs);
    await this.findRootCauses(active, nowMs);
    for (const record of assignIncidents(deps.book.snapshot(), active, nowMs)) deps.book.note(record, nowMs, "incident", `${record.alert.incidentId ?? ""} (${record.incidentSubject ?? ""})`);
    for (const notification of notificationsFor(changes, rules.byName, nowMs, (...event) => deps.book.note(...event))) {
      if (notification.change !== "resolved" && notification.record.silencedBy.length > 0) {
        deps.metrics.countNotification(notification.change, "silenced");
        continue;
      }
      try {
        await deps.dispatcher.dispatch({ alert: structuredClone(notification.record.alert), change: notification.change, outputs: notification.record.outputs });
        notification.markSent();
        deps.metrics.countNotification(notification.change, "queued");
      } catch (error) {
        // The outputs queue is full or down: the next round tries again (firing or reminder), nothing else waits.
        deps.metrics.countNotification(notification.change, "failed");
        deps.logger.warn({ component: "analyzer", alert: notification.record.alert.id, change: notification.change, err: error }, "could not queue an alert notification");
      }
    }
    deps.metrics.setAlerts(deps.book.snapshot());
    return changes;
  }

  /** Re-checks silences for one alert now (rounds, and the silence API when silences change). */
  applySilences(record: AlertRecord, nowMs: number): void {
    const matching = this.deps.silences.matching(record.alert.labels, nowMs);
    const wasSilenced = record.silencedBy.length > 0;
    if (matching.length > 0 && !wasSilenced) this.deps.book.note(record, nowMs, "silenced", `by ${matching.join(", ")}`);
    if (matching.length === 0 && wasSilenced) this.deps.book.note(record, nowMs, "unsilenced", "no active silence matches");
    record.silencedBy = matching;
  }

  private async findRootCauses(active: readonly AlertRecord[], nowMs: number): Promise<void> {
    const { deps } = this;
    const pending = active.filter((record) => record.alert.rootCause === null && record.service !== "" && record.rootCauseAttempts < MAX_ROOT_CAUSE_ATTEMPTS);
    // Alerts of one service share a verdict: one analysis per service and round.
    const verdicts = new Map<string, RootCause | null>();
    for (const record of pending) {
      if (!verdicts.has(record.service)) {
        if (verdicts.size >= deps.limits.maxRootCauseLookups) continue;
        verdicts.set(record.service, await this.findRootCause(record.service, nowMs));
      }
      record.rootCauseAttempts++;
      const verdict = verdicts.get(record.service) ?? null;
      if (verdict === null) continue;
      record.alert.rootCause = verdict;
      deps.book.note(record, nowMs, "root-cause", `${verdict.service}${verdict.instance ? ` (${verdict.instance})` : ""}: ${verdict.reason}`);
    }
  }

  private async findRootCause(service: string, nowMs: number): Promise<RootCause | null> {
    try {
      return await this.deps.rootCauses.find({ symptomaticServices: [service], nowMs, windowMinutes: this.deps.limits.rootCauseWindowMinutes });
    } catch (error) {
      this.deps.logger.warn({ component: "analyzer", service, err: error }, "root-cause analysis failed; the alert goes out without one");
      return null;
    }
  }
}
