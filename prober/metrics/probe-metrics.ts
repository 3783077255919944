import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ProbeCase } from "../case.ts";
import type { RunRecord } from "../runner/probe-runner.ts";
import { MAX_OUTCOME_METRIC_NAMES, OUTCOME_METRIC_NAME, httpPhaseSeconds, outcomeMetricHelp } from "./blackbox-names.ts";

type TargetLabels = { probe: string; target: string };

/** What one (case, target) pair has exported, so its series can be removed exactly. */
interface ExportedSeries {
  phases: Set<string>;
  outcomeMetrics: Set<string>;
}

/**
 * The prober's Prometheus metrics: blackbox-exporter names per case and target (`probe_success`,
 * `probe_duration_seconds`, `probe_http_duration_seconds{phase}`, `probe_<kind metric>`), plus the
 * prober's own health (runs, schedule delay, last run time: Kuberhealthy's silent-stall lesson).
 * Series are bounded: by cases x targets, and a deleted case or dropped target takes its series along.
 */
export class ProbeMetrics {
  private readonly success: Gauge<"probe" | "target">;
  private readonly duration: Gauge<"probe" | "target">;
  private readonly httpPhases: Gauge<"probe" | "target" | "phase">;
  private readonly dnsLookup: Gauge<"probe" | "target">;
  private readonly lastRun: Gauge<"probe" | "target">;
  private readonly runs: Counter<"probe" | "status">;
  private readonly scheduleDelay: Histogram;
  private readonly droppedResults: Counter<"reason">;
  private readonly outcomeGauges = new Map<string, Gauge<"probe" | "target">>();
  private readonly exported = new Map<string, Map<string, ExportedSeries>>();

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    const labelNames = ["probe", "target"] as const;
    this.success = new Gauge({ name: "probe_success", help: "Displays whether or not the probe was a success", labelNames, registers });
    this.duration = new Gauge({ name: "probe_duration_seconds", help: "Returns how long the probe took to complete in seconds", labelNames, registers });
    this.httpPhases = new Gauge({ name: "probe_http_duration_seconds", help: "Duration of http request by phase, summed over all redirects", labelNames: ["probe", "target", "phase"], registers });
    this.dnsLookup = new Gauge({ name: "probe_dns_lookup_time_seconds", help: "Returns the time taken for probe dns lookup in seconds", labelNames, registers });
    this.lastRun = new Gauge({ name: "meshsight_probe_last_run_timestamp_seconds", help: "When the case last finished a run against the target; a stale value means the scheduler stalled.", labelNames, registers });
    this.runs = new Counter({ name: "meshsight_probe_runs_total", help: "Probe runs finished, by case and status.", labelNames: ["probe", "status"], registers });
    this.scheduleDelay = new Histogram({
      name: "meshsight_probe_schedule_delay_seconds",
      help: "How late a scheduled run started after its due time.",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.droppedResults = new Counter({ name: "meshsight_probe_results_dropped_total", help: "Probe results dropped before storage, by reason.", labelNames: ["reason"], registers });
  }

  record(probe: ProbeCase, { result, outcome }: RunRecord): void {
    const labels: TargetLabels = { probe: result.probe, target: result.target };
    const series = this.seriesOf(labels);
    this.success.set(labels, result.status === "success" ? 1 : 0);
    this.duration.set(labels, result.durationMs / 1000);
    this.lastRun.set(labels, (result.startedMs + result.durationMs) / 1000);
    this.runs.inc({ probe: result.probe, status: result.status });
    if (probe.kind === "http") {
      for (const [phase, seconds] of httpPhaseSeconds(outcome.phases)) {
        this.httpPhases.set({ ...labels, phase }, seconds);
        series.phases.add(phase);
      }
    }
    const dnsMs = outcome.phases.dns ?? outcome.phases.resolve;
    if (dnsMs !== undefined && Number.isFinite(dnsMs)) {
      this.dnsLookup.set(labels, dnsMs / 1000);
      series.outcomeMetrics.add("dns_lookup_time_seconds");
    }
    for (const [key, value] of Object.entries(outcome.metrics)) {
      const gauge = this.outcomeGauge(key);
      if (!gauge || !Number.isFinite(value)) continue;
      gauge.set(labels, value);
      series.outcomeMetrics.add(key);
    }
  }

  observeScheduleDelay(delayMs: number): void {
    this.scheduleDelay.observe(Math.max(0, delayMs) / 1000);
  }

  countDroppedResults(count: number, reason: string): void {
    this.droppedResults.inc({ reason }, count);
  }

  /** Drops the series of targets the case no longer has (all of them when `keepTargets` is empty). */
  forget(probe: string, keepTargets: readonly string[] = []): void {
    const targets = this.exported.get(probe);
    if (!targets) return;
    const keep = new Set(keepTargets);
    for (const [target, series] of targets) {
      if (keep.has(target)) continue;
      const labels: TargetLabels = { probe, target };
      this.success.remove(labels);
      this.duration.remove(labels);
      this.lastRun.remove(labels);
      for (const phase of series.phases) this.httpPhases.remove({ ...labels, phase });
      for (const key of series.outcomeMetrics) {
        if (key === "dns_lookup_time_seconds") this.dnsLookup.remove(labels);
        else this.outcomeGauges.get(key)?.remove(labels);
      }
      targets.delete(target);
    }
    if (targets.size === 0) {
      this.exported.delete(probe);
      for (const status of ["success", "failure", "timeout", "error"]) this.runs.remove({ probe, status });
    }
  }

  private seriesOf(labels: TargetLabels): ExportedSeries {
    let targets = this.exported.get(labels.probe);
    if (!targets) {
      targets = new Map();
      this.exported.set(labels.probe, targets);
    }
    let series = targets.get(labels.target);
    if (!series) {
      series = { phases: new Set(), outcomeMetrics: new Set() };
      targets.set(labels.target, series);
    }
    return series;
  }

  /** Each new key is a new metric family; the cap stops a misbehaving kind from creating thousands. */
  private outcomeGauge(key: string): Gauge<"probe" | "target"> | undefined {
    const existing = this.outcomeGauges.get(key);
    if (existing) return existing;
    if (!OUTCOME_METRIC_NAME.test(key) || key === "success" || key === "duration_seconds" || key === "dns_lookup_time_seconds") return undefined;
    if (this.outcomeGauges.size >= MAX_OUTCOME_METRIC_NAMES) return undefined;
    const gauge = new Gauge({ name: `probe_${key}`, help: outcomeMetricHelp(key), labelNames: ["probe", "target"], registers: [this.registry] });
    this.outcomeGauges.set(key, gauge);
    return gauge;
  }
}
