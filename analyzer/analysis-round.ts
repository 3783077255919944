import type { Logger } from "pino";
import type { RootCause } from "../core/model/alert.ts";
import type { StorageReader } from "../core/storage/port.ts";
import type { AlertBook, AlertRecord, RoundChanges } from "./alerts/alert-book.ts";
import { incidentNotifications, type SentAlertNotification } from "./alerts/incident-notifications.ts";
import { assignIncidents } from "./alerts/incidents.ts";
import { notificationsFor } from "./alerts/notification-policy.ts";
import type { AlertDispatcher } from "./alerts/notification.ts";
import { isNewsworthy, refineVerdict, verdictName } from "./alerts/root-cause-refinement.ts";
import type { SilenceBook } from "./alerts/silences.ts";
import type { AnalyzerMetrics } from "./analyzer-metrics.ts";
import { readAnalysisWindow } from "./health/analysis-window.ts";
import { CHANGE_LOOKBACK_MS, formatDuration } from "./rca/recent-changes.ts";
import { BASELINE_MINUTES } from "./health/baseline-window.ts";
import { assessHealth, type EntityHealth } from "./health/health-model.ts";
import { ruleLookbackMinutes, type RuleScope } from "./rules/rule.ts";
import { findBreaches } from "./rules/rule-evaluator.ts";
import type { LoadedRules } from "./rules/rule-store.ts";

/** The root-cause finder as the analyzer uses it (analyzer/rca implements it). */
export interface RootCauseLookup {
  find(request: { symptomaticServices: readonly string[]; nowMs: number; windowMinutes: number; symptomStartMs?: number }): Promise<RootCause | null>;
}

export interface HealthReport {
  evaluatedAtMs: number;
  windowMinutes: number;
  entities: EntityHealth[];
  /** Entities per scope left out because the scope had more than the per-round cap. */
  skipped: Record<RuleScope, number>;
}

export interface AnalysisRoundDeps {
  reader: Pick<StorageReader, "busiestSeries" | "probeSeries" | "queryProbeResults">;
  rules: () => LoadedRules;
  book: AlertBook;
  silences: SilenceBook;
  rootCauses: RootCauseLookup;
  dispatcher: AlertDispatcher;
  metrics: AnalyzerMetrics;
  logger: Logger;
  limits: { healthWindowMinutes: number; maxEntitiesPerScope: number; maxRootCauseLookups: number; rootCauseWindowMinutes: number };
}

/**
 * One analysis round: read the window, judge health, evaluate rules, move alerts through their
 * lifecycle, apply silences, find or refine the root cause of every firing alert, and hand notifications to the outputs.
 */
export class AnalysisRound {
  private health: HealthReport | undefined;
  /** When the rules this process first ran with were loaded; a later load is a reload. */
  private firstRulesLoadMs: number | undefined;

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
    this.citeRuleReload(changes.fired, rules, nowMs);
    const active = [...changes.fired, ...changes.stillFiring];
    for (const record of active) this.applySilences(record, nowMs);
    const refined = await this.refreshRootCauses(active, nowMs);
    for (const record of assignIncidents(deps.book.snapshot(), active, nowMs)) deps.book.note(record, nowMs, "incident", `${record.alert.incidentId ?? ""} (${record.incidentSubject ?? ""})`);
    const sent: SentAlertNotification[] = [];
    for (const notification of notificationsFor(changes, refined, rules.byName, nowMs, (...event) => deps.book.note(...event))) {
      if (notification.change !== "resolved" && notification.record.silencedBy.length > 0) {
        deps.metrics.countNotification(notification.change, "silenced");
        continue;
      }
      const isQueued = await this.dispatch(notification.change, notification.record.alert.id, () =>
        deps.dispatcher.dispatch({ alert: structuredClone(notification.record.alert), change: notification.change, outputs: notification.record.outputs }),
      );
      if (!isQueued) continue;
      notification.markSent();
      sent.push(notification);
    }
    // Only outputs that page per incident want these; a dispatcher without them is spared the grouping.
    if (deps.dispatcher.dispatchIncident !== undefined) {
      for (const notification of incidentNotifications(sent, deps.book.snapshot())) {
        await this.dispatch(`incident_${notification.change}`, notification.incident.id, async () => deps.dispatcher.dispatchIncident?.(notification));
      }
    }
    deps.metrics.setAlerts(deps.book.snapshot());
    return changes;
  }

  /**
   * Queues one notification; a failure (the outputs queue is full or down) is counted and logged. An alert's
   * unsent firing is tried again next round (notificationsFor); nothing else waits.
   */
  private async dispatch(change: string, subject: string, queue: () => Promise<void>): Promise<boolean> {
    try {
      await queue();
      this.deps.metrics.countNotification(change, "queued");
      return true;
    } catch (error) {
      this.deps.metrics.countNotification(change, "failed");
      this.deps.logger.warn({ component: "analyzer", subject, change, err: error }, "could not queue an alert notification");
      return false;
    }
  }

  /**
   * An alert that begins shortly after the alarm rules were reloaded may be the new rules' doing: its timeline
   * says so. The load a process starts with is no change.
   */
  private citeRuleReload(fired: readonly AlertRecord[], rules: LoadedRules, nowMs: number): void {
    this.firstRulesLoadMs ??= rules.loadedAtMs;
    const sinceReloadMs = nowMs - rules.loadedAtMs;
    if (rules.loadedAtMs === this.firstRulesLoadMs || sinceReloadMs > CHANGE_LOOKBACK_MS) return;
    const detail = `began ${formatDuration(sinceReloadMs)} after the alarm rules were reloaded (${rules.source}) at ${new Date(rules.loadedAtMs).toISOString()}`;
    for (const record of fired) this.deps.book.note(record, nowMs, "change", detail);
  }

  /** Re-checks silences for one alert now (rounds, and the silence API when silences change). */
  applySilences(record: AlertRecord, nowMs: number): void {
    const matching = this.deps.silences.matching(record.alert.labels, nowMs);
    const wasSilenced = record.silencedBy.length > 0;
    if (matching.length > 0 && !wasSilenced) this.deps.book.note(record, nowMs, "silenced", `by ${matching.join(", ")}`);
    if (matching.length === 0 && wasSilenced) this.deps.book.note(record, nowMs, "unsilenced", "no active silence matches");
    record.silencedBy = matching;
  }

  /**
   * Asks for the root cause of every firing alert each round, so a verdict follows the fault as the window fills
   * with it (reviews.default first, the pod that stopped serving a few rounds later). Alerts without a verdict go
   * first, then those asked longest ago, so the per-round cap delays a lookup but never starves one. Returns the
   * alerts whose cause changed or sharpened: their receivers get an "updated" notification.
   */
  private async refreshRootCauses(active: readonly AlertRecord[], nowMs: number): Promise<Set<AlertRecord>> {
    const { deps } = this;
    const askable = active
      .filter((record) => record.service !== "")
      .sort((a, b) => Number(a.alert.rootCause !== null) - Number(b.alert.rootCause !== null) || (a.rootCauseCheckedMs ?? 0) - (b.rootCauseCheckedMs ?? 0));
    // Alerts of one service share a verdict: one analysis per service and round.
    const verdicts = new Map<string, RootCause | null>();
    const refined = new Set<AlertRecord>();
    for (const record of askable) {
      if (!verdicts.has(record.service)) {
        if (verdicts.size >= deps.limits.maxRootCauseLookups) continue;
        verdicts.set(record.service, await this.findRootCause(record.service, nowMs, symptomStart(askable, record.service)));
      }
      record.rootCauseCheckedMs = nowMs;
      const previous = record.alert.rootCause;
      const { move, rootCause } = refineVerdict(previous, verdicts.get(record.service) ?? null);
      record.alert.rootCause = rootCause;
      if (rootCause === null || move === "kept" || move === "refreshed") continue;
      if (move === "found") deps.book.note(record, nowMs, "root-cause", `${verdictName(rootCause)}: ${rootCause.reason}`);
      else deps.book.note(record, nowMs, "root-cause-refined", `${move}: ${previous === null ? "" : verdictName(previous)} -> ${verdictName(rootCause)}: ${rootCause.reason}`);
      if (isNewsworthy(move)) refined.add(record);
    }
    return refined;
  }

  private async findRootCause(service: string, nowMs: number, symptomStartMs: number): Promise<RootCause | null> {
    try {
      return await this.deps.rootCauses.find({ symptomaticServices: [service], nowMs, windowMinutes: this.deps.limits.rootCauseWindowMinutes, symptomStartMs });
    } catch (error) {
      this.deps.logger.warn({ component: "analyzer", service, err: error }, "root-cause analysis failed; the alert goes out without one");
      return null;
    }
  }
}

/** When the symptoms of `service` began: the start of its oldest firing alert. */
function symptomStart(firing: readonly AlertRecord[], service: string): number {
  return Math.min(...firing.filter((record) => record.service === service).map((record) => record.alert.startsAtMs));
}
