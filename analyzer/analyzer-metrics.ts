import { Counter, Gauge, type Registry } from "prom-client";
import type { AlertRecord } from "./alerts/alert-book.ts";
import type { EntityHealth, HealthState } from "./health/health-model.ts";
import type { RuleScope } from "./rules/rule.ts";

/** Grafana reads these: 0 no data, 1 healthy, 2 degraded, 3 unhealthy (higher is worse). */
export const HEALTH_GAUGE_VALUE: Record<HealthState, number> = { "no-data": 0, healthy: 1, degraded: 2, unhealthy: 3 };

/** The analyzer's Prometheus series (docs/alerting.md "Metrics"). */
export class AnalyzerMetrics {
  private readonly alerts: Gauge<"state">;
  private readonly serviceHealth: Gauge<"service">;
  private readonly rounds: Counter<"result">;
  private readonly skipped: Counter<"scope">;
  private readonly ruleReloads: Counter<"result">;
  private readonly notifications: Counter<"change" | "result">;
  private readonly roundSeconds: Gauge;

  constructor(
    registry: Registry,
    private readonly maxHealthSeries: number,
  ) {
    const registers = [registry];
    this.alerts = new Gauge({ name: "meshsight_alerts", help: "Alerts by state: firing (not silenced), silenced (firing but muted), resolved (kept in history).", labelNames: ["state"], registers });
    this.serviceHealth = new Gauge({ name: "meshsight_service_health", help: "Health per service from the last analysis round: 0 no data, 1 healthy, 2 degraded, 3 unhealthy.", labelNames: ["service"], registers });
    this.rounds = new Counter({ name: "meshsight_analyzer_rounds_total", help: "Analysis rounds by result (ok, failed).", labelNames: ["result"], registers });
    this.skipped = new Counter({ name: "meshsight_analyzer_skipped_entities_total", help: "Entities left out of a round because their scope had more than analyzer.maxEntitiesPerScope.", labelNames: ["scope"], registers });
    this.ruleReloads = new Counter({ name: "meshsight_alarm_rule_reloads_total", help: "Alarm rule loads by result (applied, rejected); a rejected file leaves the previous rules in force.", labelNames: ["result"], registers });
    this.notifications = new Counter({ name: "meshsight_alert_notifications_total", help: "Alert notifications handed to the outputs by change (firing, updated, reminder, resolved) and result (queued, failed, silenced).", labelNames: ["change", "result"], registers });
    this.roundSeconds = new Gauge({ name: "meshsight_analyzer_round_duration_seconds", help: "Wall time of the last analysis round.", registers });
    for (const state of ["firing", "silenced", "resolved"]) this.alerts.set({ state }, 0);
  }

  countRound(result: "ok" | "failed", seconds: number): void {
    this.rounds.inc({ result });
    this.roundSeconds.set(seconds);
  }

  countSkipped(skipped: Record<RuleScope, number>): void {
    for (const [scope, count] of Object.entries(skipped)) if (count > 0) this.skipped.inc({ scope }, count);
  }

  countRuleReload(result: "applied" | "rejected"): void {
    this.ruleReloads.inc({ result });
  }

  countNotification(change: string, result: "queued" | "failed" | "silenced"): void {
    this.notifications.inc({ change, result });
  }

  setAlerts(records: readonly AlertRecord[]): void {
    const counts = { firing: 0, silenced: 0, resolved: 0 };
    for (const record of records) {
      if (record.alert.state === "resolved") counts.resolved++;
      else if (record.silencedBy.length > 0) counts.silenced++;
      else counts.firing++;
    }
    for (const [state, count] of Object.entries(counts)) this.alerts.set({ state }, count);
  }

  /** Replaces every service series, so services that went away lose theirs; the worst ones are kept first. */
  setServiceHealth(verdicts: readonly EntityHealth[]): void {
    this.serviceHealth.reset();
    const services = verdicts.filter((verdict) => verdict.scope === "service");
    services.sort((a, b) => HEALTH_GAUGE_VALUE[b.state] - HEALTH_GAUGE_VALUE[a.state] || b.calls - a.calls || a.entity.localeCompare(b.entity));
    for (const verdict of services.slice(0, this.maxHealthSeries)) this.serviceHealth.set({ service: verdict.entity }, HEALTH_GAUGE_VALUE[verdict.state]);
  }
}
