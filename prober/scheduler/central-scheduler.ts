import type { Logger } from "pino";
import type { Component } from "../../core/lifecycle.ts";
import type { JobQueue, Schedule } from "../../core/queue/port.ts";
import { jitterOffsetMs, type ProbeCase } from "../case.ts";
import type { CatalogChange, ProbeCatalog } from "../catalog.ts";
import type { ProbeRunner } from "../runner/probe-runner.ts";

/** The queue the schedules fire into (BullMQ when Redis is configured, the inline queue otherwise). */
export const PROBE_QUEUE = "probes";
/**
 * Runs go through their own queue and worker pool: a tick only adds a run, and must not wait for a
 * worker slot behind slow probe runs (that wait would show up as scheduling delay).
 */
export const PROBE_RUN_QUEUE = "probe-runs";
/** Ticks do no I/O but a queue add; a small pool keeps up with thousands per second. */
const TICK_CONCURRENCY = 16;

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
}

export interface CentralSchedulerOptions {
  queue: JobQueue;
  catalog: ProbeCatalog;
  runner: ProbeRunner;
  /** Runs at once per process. */
  concurrency: number;
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
    queue.work<ProbeJobData>(PROBE_QUEUE, async (job) => this.handle(job.data), { concurrency: TICK_CONCURRENCY });
    queue.work<ProbeJobData>(PROBE_RUN_QUEUE, async (job) => this.handle(job.data), { concurrency });
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
    const keep = new Set(current && isCentrallyScheduled(current) ? current.targets : []);
    if (previous && isCentrallyScheduled(previous)) {
      for (const target of previous.targets) if (!keep.has(target)) await this.options.queue.removeSchedule(PROBE_QUEUE, scheduleId(previous.name, target));
    }
    if (current) await this.scheduleCase(current);
  }

  private async scheduleCase(probe: ProbeCase): Promise<void> {
    if (!isCentrallyScheduled(probe)) return;
    const schedule: Schedule = probe.schedule.type === "every" ? { everyMs: probe.schedule.everyMs } : { pattern: probe.schedule.type === "cron" ? probe.schedule.pattern : "" };
    for (const target of probe.targets) {
      const data: ProbeJobData = { type: "tick", probe: probe.name, target };
      await this.options.queue.upsertSchedule(PROBE_QUEUE, scheduleId(probe.name, target), schedule, data);
    }
  }

  private async handle(data: ProbeJobData): Promise<void> {
    if (this.isStopped) return;
    const probe = this.options.catalog.get(data.probe);
    if (!probe || !probe.targets.includes(data.target)) {
      this.ignoredJobs += 1;
      return;
    }
    if (data.type === "tick") {
      await this.enqueueRun(probe, data.target);
      return;
    }
    if (data.dueMs !== undefined) this.options.onScheduleDelay?.(this.now() - data.dueMs);
    // The in-process guard inside the runner joins a run already going (e.g. a manual one) instead of doubling it.
    await this.options.runner.run(probe, data.target);
  }

  private async enqueueRun(probe: ProbeCase, target: string): Promise<void> {
    // The tick time is the schedule's fire time: BullMQ's `every` schedulers are not aligned to epoch
    // boundaries, so the run is due at the tick plus this pair's stable jitter offset.
    const nowMs = this.now();
    const delayMs = probe.schedule.type === "every" ? jitterOffsetMs(probe.name, target, probe.schedule.jitterMs) : 0;
    const dueMs = nowMs + delayMs;
    const data: ProbeJobData = { type: "run", probe: probe.name, target, dueMs };
    await this.options.queue.add(PROBE_RUN_QUEUE, data, { jobId: runJobId(probe.name, target), delayMs });
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
