import type { Logger } from "pino";
import type { Component } from "../../core/lifecycle.ts";
import type { JobQueue, Schedule } from "../../core/queue/port.ts";
import { jitterOffsetMs, PROBE_PRIORITIES, type ProbeCase, type ProbePriority } from "../case.ts";
import type { CatalogChange, ProbeCatalog } from "../catalog.ts";
import type { ProbeRunner } from "../runner/probe-runner.ts";

/**
 * One queue pair per priority ("one queue per priority", as BullMQ users separate work): the schedules
 * of a priority fire ticks into its tick queue, and its runs go through its run queue, each with its own
 * workers. So a flood of low-priority runs (or their ticks) can fill only the low queues' slots; a
 * high-priority run never waits behind them. Runs and ticks are separate as well: a tick only adds a
 * run, and must not wait for a worker slot behind slow probe runs (that wait is scheduling delay).
 * Normal keeps the original names, so existing schedules in Redis stay valid.
 */
export const PROBE_QUEUES: Record<ProbePriority, { ticks: string; runs: string }> = {
  high: { ticks: "probes-high", runs: "probe-runs-high" },
  normal: { ticks: "probes", runs: "probe-runs" },
  low: { ticks: "probes-low", runs: "probe-runs-low" },
};
/** Ticks do no I/O but a queue add; a small pool keeps up with thousands per second. */
const TICK_CONCURRENCY = 16;
const MAX_HANDOVERS = 3;

/**
 * Job data on the probe queues. A schedule fires a `tick`; the tick adds a `run` job with the jobId
 * `run|<case>|<target>` (delayed by the case's jitter offset), so a run of one pair that is still
 * waiting or active absorbs the next tick: no duplicate concurrent runs across processes, and a slow
 * target never piles up runs. `dueMs` is when the run should start, to measure scheduling delay.
 */
export interface ProbeJobData {
  type: "tick" | "run";
  probe: string;
  target: string;
  dueMs?: number;
  /** How often a stopping process handed this run back to the queue. */
  handovers?: number;
}

export interface CentralSchedulerOptions {
  queue: JobQueue;
  catalog: ProbeCatalog;
  runner: ProbeRunner;
  /** Runs at once per process, per priority. */
  concurrency: Record<ProbePriority, number>;
  logger: Logger;
  /** Gets the delay of every scheduled run (metrics, benchmarks). */
  onScheduleDelay?: (delayMs: number) => void;
  now?: () => number;
}

/**
 * Central mode: every (case, target) of a scheduled, non-resident case is a queue schedule. Every
 * process upserts the same schedules (idempotent by id) and works the same queue, so with BullMQ the
 * processes share the runs and one that dies simply stops taking jobs; the others take them over.
 */
export class CentralScheduler implements Component {
  readonly name = "probe-scheduler";
  private readonly now: () => number;
  private isStopped = false;
  private ignoredJobs = 0;

  constructor(private readonly options: CentralSchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Jobs for cases or targets this process does not know (deleted elsewhere, or stale schedules). */
  get ignoredJobCount(): number {
    return this.ignoredJobs;
  }

  async start(): Promise<void> {
    const { queue, catalog, concurrency } = this.options;
    for (const priority of PROBE_PRIORITIES) {
      queue.work<ProbeJobData>(PROBE_QUEUES[priority].ticks, async (job) => this.handle(job.data), { concurrency: TICK_CONCURRENCY });
      queue.work<ProbeJobData>(PROBE_QUEUES[priority].runs, async (job) => this.handle(job.data), { concurrency: concurrency[priority] });
    }
    catalog.onChange((change) => this.apply(change));
    for (const probe of catalog.list()) await this.scheduleCase(probe);
  }

  /**
   * Schedules stay in the queue (with BullMQ other processes keep running them); the worker itself stops
   * when the owner closes the queue, after the prober's components have stopped.
   */
  async stop(): Promise<void> {
    this.isStopped = true;
    await this.options.runner.drain();
  }

  private async apply(change: CatalogChange): Promise<void> {
    const previous = change.type === "upsert" ? change.previous : change.probe;
    const current = change.type === "upsert" ? change.probe : undefined;
    // A schedule stays when the new version still runs that target on the same priority's queue.
    const keep = new Set(current && isCentrallyScheduled(current) && current.priority === previous?.priority ? current.targets : []);
    if (previous && isCentrallyScheduled(previous)) {
      const ticks = PROBE_QUEUES[previous.priority].ticks;
      for (const target of previous.targets) if (!keep.has(target)) await this.options.queue.removeSchedule(ticks, scheduleId(previous.name, target));
    }
    if (current) await this.scheduleCase(current);
  }

  private async scheduleCase(probe: ProbeCase): Promise<void> {
    if (!isCentrallyScheduled(probe)) return;
    const schedule: Schedule = probe.schedule.type === "every" ? { everyMs: probe.schedule.everyMs } : { pattern: probe.schedule.type === "cron" ? probe.schedule.pattern : "" };
    for (const target of probe.targets) {
      const data: ProbeJobData = { type: "tick", probe: probe.name, target };
      await this.options.queue.upsertSchedule(PROBE_QUEUES[probe.priority].ticks, scheduleId(probe.name, target), schedule, data);
    }
  }

  private async handle(data: ProbeJobData): Promise<void> {
    const probe = this.options.catalog.get(data.probe);
    if (!probe || !probe.targets.includes(data.target)) {
      this.ignoredJobs += 1;
      return;
    }
    // A stopping process keeps taking jobs until its owner closes the queue. A tick still only adds its
    // run (the queue is shared), so the tick is not lost.
    if (data.type === "tick") {
      await this.enqueueRun(probe, data.target);
      return;
    }
    if (this.isStopped) {
      await this.handOver(probe, data);
      return;
    }
    if (data.dueMs !== undefined) this.options.onScheduleDelay?.(this.now() - data.dueMs);
    // The in-process guard inside the runner joins a run already going (e.g. a manual one) instead of doubling it.
    await this.options.runner.run(probe, data.target);
  }

  /**
   * A run taken after stop() would write its result after the results writer stopped: it goes back to
   * the queue for another process instead (with BullMQ; the in-process queue is closing with this process
   * anyway). Its own job is still active under the run id, so the copy gets an id of its own, numbered
   * so that a copy this same process takes again can be handed on (a few times: then it is dropped).
   */
  private async handOver(probe: ProbeCase, data: ProbeJobData): Promise<void> {
    const handovers = (data.handovers ?? 0) + 1;
    if (handovers > MAX_HANDOVERS) return;
    try {
      await this.options.queue.add(PROBE_QUEUES[probe.priority].runs, { ...data, handovers }, { jobId: `${runJobId(probe.name, data.target)}|handover${handovers}` });
    } catch (error) {
      this.options.logger.warn({ probe: probe.name, target: data.target, error: error instanceof Error ? error.message : String(error) }, "a run taken while stopping could not be handed over");
    }
  }

  private async enqueueRun(probe: ProbeCase, target: string): Promise<void> {
    // The tick time is the schedule's fire time: BullMQ's `every` schedulers are not aligned to epoch
    // boundaries, so the run is due at the tick plus this pair's stable jitter offset.
    const nowMs = this.now();
    const delayMs = probe.schedule.type === "every" ? jitterOffsetMs(probe.name, target, probe.schedule.jitterMs) : 0;
    const dueMs = nowMs + delayMs;
    const data: ProbeJobData = { type: "run", probe: probe.name, target, dueMs };
    await this.options.queue.add(PROBE_QUEUES[probe.priority].runs, data, { jobId: runJobId(probe.name, target), delayMs });
  }
}

export function isCentrallyScheduled(probe: ProbeCase): boolean {
  return !probe.resident && probe.schedule.type !== "manual";
}

export function scheduleId(probe: string, target: string): string {
  return `probe|${probe}|${target}`;
}

export function runJobId(probe: string, target: string): string {
  return `run|${probe}|${target}`;
}
