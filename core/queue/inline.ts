/**
 * The embedded job queue: the default when no Redis is configured. Same semantics as the BullMQ adapter
 * (test/conformance/queue runs against both), held in memory: jobs do not survive a restart, which is
 * acceptable for a single process whose probe schedules are re-created from config at start.
 */
import type { Logger } from "pino";
import {
  PermanentJobError,
  QueueFullError,
  type FailedJob,
  type JobHandler,
  type JobOptions,
  type JobQueue,
  type QueueCounts,
  type Schedule,
  type WorkerOptions,
} from "./port.ts";
import {
  InvalidQueueOptionError,
  errorText,
  nextFireMs,
  jsonCopy,
  resolveJobOptions,
  retryDelayMs,
  validateQueueName,
  validateSchedule,
  validateWorkerOptions,
  type ResolvedJobOptions,
} from "./job-options.ts";
import { runAfter, type CancelTimer } from "./long-timer.ts";
import { RateLimitedLog } from "../telemetry/rate-limited-log.ts";

export interface InlineQueueOptions {
  /** Per queue: add() throws QueueFullError once waiting + delayed jobs reach this. */
  maxPending: number;
  logger: Logger;
  /** Failed jobs kept per queue for deadLetters(); the oldest are dropped first. Default 1000. */
  maxDeadLetters?: number;
  now?: () => number;
}

/** Queue names come from code, schedules from probe config; these caps only stop runaway callers. */
const MAX_QUEUES = 1_000;
const MAX_SCHEDULES_PER_QUEUE = 10_000;
const DEFAULT_MAX_DEAD_LETTERS = 1_000;

interface PendingJob {
  id: string;
  data: unknown;
  attempt: number;
  options: ResolvedJobOptions;
  scheduleId: string | undefined;
}

interface QueueState {
  readonly name: string;
  readonly waiting: PendingJob[];
  readonly delayed: Map<string, { job: PendingJob; cancel: CancelTimer }>;
  /** Ids of waiting, delayed and active jobs: what jobId dedupe looks at. */
  readonly liveIds: Set<string>;
  readonly deadLetters: FailedJob[];
  readonly schedules: Map<string, { cancel: CancelTimer }>;
  active: number;
  completed: number;
  worker: { handler: JobHandler<unknown>; concurrency: number } | undefined;
}

export class InlineQueue implements JobQueue {
  readonly name = "inline";
  private readonly queues = new Map<string, QueueState>();
  private readonly running = new Set<Promise<void>>();
  private readonly maxPending: number;
  private readonly maxDeadLetters: number;
  private readonly logger: Logger;
  private readonly rateLimitedLog: RateLimitedLog;
  private readonly now: () => number;
  private sequence = 0;
  private closing: Promise<void> | undefined;

  constructor(options: InlineQueueOptions) {
    if (!Number.isInteger(options.maxPending) || options.maxPending < 1) {
      throw new InvalidQueueOptionError(`maxPending must be an integer >= 1, got ${String(options.maxPending)}`);
    }
    const maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    if (!Number.isInteger(maxDeadLetters) || maxDeadLetters < 0) {
      throw new InvalidQueueOptionError(`maxDeadLetters must be an integer >= 0, got ${String(maxDeadLetters)}`);
    }
    this.maxPending = options.maxPending;
    this.maxDeadLetters = maxDeadLetters;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.rateLimitedLog = new RateLimitedLog(options.logger, undefined, this.now);
  }

  add<T>(queue: string, data: T, options?: JobOptions): Promise<string> {
    // Async-by-contract: validation errors become rejections, as they would with a network backend.
    return Promise.resolve().then(() => {
      this.assertOpen();
      validateQueueName(queue);
      const resolved = resolveJobOptions(queue, options);
      const state = this.stateFor(queue);
      if (resolved.jobId !== undefined && state.liveIds.has(resolved.jobId)) return resolved.jobId;
      this.assertRoom(state);
      const id = resolved.jobId ?? this.nextJobId(state);
      this.enqueue(state, { id, data: jsonCopy(queue, data), attempt: 1, options: resolved, scheduleId: undefined }, resolved.delayMs);
      return id;
    });
  }

  work<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions): void {
    this.assertOpen();
    validateQueueName(queue);
    validateWorkerOptions(queue, options);
    const state = this.stateFor(queue);
    if (state.worker) throw new Error(`queue "${queue}" already has a worker in this process`);
    // The queue stores data as unknown; the handler owner knows which T it put in.
    state.worker = { handler: handler as JobHandler<unknown>, concurrency: options.concurrency };
    this.pump(state);
  }

  upsertSchedule<T>(queue: string, scheduleId: string, schedule: Schedule, data: T, options?: JobOptions): Promise<void> {
    return Promise.resolve().then(() => {
      this.assertOpen();
      validateQueueName(queue);
      validateSchedule(queue, scheduleId, schedule);
      const resolved = resolveJobOptions(queue, { ...options, delayMs: 0, jobId: undefined });
      const template = jsonCopy(queue, data);
      const state = this.stateFor(queue);
      const existing = state.schedules.get(scheduleId);
      if (!existing && state.schedules.size >= MAX_SCHEDULES_PER_QUEUE) {
        throw new Error(`queue "${queue}" already has ${MAX_SCHEDULES_PER_QUEUE} schedules; remove some first`);
      }
      existing?.cancel();
      const entry = { cancel: (() => {}) as CancelTimer };
      state.schedules.set(scheduleId, entry);
      let lastDueMs = -Infinity;
      const arm = (): void => {
        const nowMs = this.now();
        const dueMs = nextFireMs(schedule, Math.max(nowMs, lastDueMs), `queue "${queue}" schedule "${scheduleId}"`);
        lastDueMs = dueMs;
        entry.cancel = runAfter(dueMs - nowMs, () => {
          if (this.closing || state.schedules.get(scheduleId) !== entry) return;
          // Each run gets its own copy, so a handler mutating its data cannot change the next run.
          this.fireSchedule(state, scheduleId, jsonCopy(queue, template), resolved);
          try {
            arm();
          } catch (error) {
            // A timer callback must not throw (it would crash the process); a pattern with no next time ends.
            state.schedules.delete(scheduleId);
            this.logger.warn({ queue, scheduleId, error: errorText(error) }, "schedule has no next run; removed");
          }
        });
      };
      arm();
    });
  }

  removeSchedule(queue: string, scheduleId: string): Promise<void> {
    const state = this.queues.get(queue);
    state?.schedules.get(scheduleId)?.cancel();
    state?.schedules.delete(scheduleId);
    return Promise.resolve();
  }

  counts(queue: string): Promise<QueueCounts> {
    const state = this.queues.get(queue);
    return Promise.resolve({
      waiting: state?.waiting.length ?? 0,
      delayed: state?.delayed.size ?? 0,
      active: state?.active ?? 0,
      failed: state?.deadLetters.length ?? 0,
      completed: state?.completed ?? 0,
    });
  }

  deadLetters(queue: string, limit: number): Promise<FailedJob[]> {
    if (!Number.isInteger(limit) || limit < 0) {
      return Promise.reject(new InvalidQueueOptionError(`deadLetters limit must be an integer >= 0, got ${String(limit)}`));
    }
    const failed = this.queues.get(queue)?.deadLetters ?? [];
    return Promise.resolve(failed.slice(Math.max(0, failed.length - limit)).reverse());
  }

  ping(): Promise<boolean> {
    return Promise.resolve(this.closing === undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const state of this.queues.values()) {
      for (const { cancel } of state.delayed.values()) cancel();
      for (const { cancel } of state.schedules.values()) cancel();
      state.schedules.clear();
    }
    await Promise.all(this.running);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error(`${this.name} queue is closed`);
  }

  private assertRoom(state: QueueState): void {
    if (state.waiting.length + state.delayed.size >= this.maxPending) throw new QueueFullError(state.name, this.maxPending);
  }

  private stateFor(queue: string): QueueState {
    let state = this.queues.get(queue);
    if (state) return state;
    if (this.queues.size >= MAX_QUEUES) throw new Error(`too many queues (${MAX_QUEUES}); queue names must come from code, not input`);
    state = {
      name: queue,
      waiting: [],
      delayed: new Map(),
      liveIds: new Set(),
      deadLetters: [],
      schedules: new Map(),
      active: 0,
      completed: 0,
      worker: undefined,
    };
    this.queues.set(queue, state);
    return state;
  }

  private nextJobId(state: QueueState): string {
    let id: string;
    do id = String(++this.sequence);
    while (state.liveIds.has(id));
    return id;
  }

  private fireSchedule(state: QueueState, scheduleId: string, data: unknown, options: ResolvedJobOptions): void {
    // A run still waiting covers this tick too: a slow worker must not pile up copies of the same work.
    if (state.waiting.some((job) => job.scheduleId === scheduleId)) return;
    try {
      this.assertRoom(state);
    } catch (error) {
      this.rateLimitedLog.warn(`schedule-full:${state.name}`, { queue: state.name, scheduleId, error: errorText(error) }, "scheduled job skipped");
      return;
    }
    const id = this.nextJobId(state);
    this.enqueue(state, { id: `schedule-${scheduleId}-${id}`, data, attempt: 1, options, scheduleId }, 0);
  }

  private enqueue(state: QueueState, job: PendingJob, delayMs: number): void {
    state.liveIds.add(job.id);
    if (delayMs <= 0) {
      state.waiting.push(job);
      this.pump(state);
      return;
    }
    const cancel = runAfter(delayMs, () => {
      state.delayed.delete(job.id);
      state.waiting.push(job);
      this.pump(state);
    });
    state.delayed.set(job.id, { job, cancel });
  }

  /** Starts waiting jobs up to the worker's concurrency. */
  private pump(state: QueueState): void {
    const worker = state.worker;
    if (!worker || this.closing) return;
    while (state.active < worker.concurrency) {
      const job = state.waiting.shift();
      if (!job) return;
      state.active += 1;
      const execution = this.execute(state, worker.handler, job).finally(() => this.running.delete(execution));
      this.running.add(execution);
    }
  }

  /** Never rejects: a handler failure becomes a retry or a dead letter. */
  private async execute(state: QueueState, handler: JobHandler<unknown>, job: PendingJob): Promise<void> {
    try {
      await handler({ id: job.id, queue: state.name, data: job.data, attempt: job.attempt });
      state.completed += 1;
      state.liveIds.delete(job.id);
    } catch (error) {
      this.handleFailure(state, job, error);
    } finally {
      state.active -= 1;
      this.pump(state);
    }
  }

  private handleFailure(state: QueueState, job: PendingJob, error: unknown): void {
    const canRetry = !(error instanceof PermanentJobError) && job.attempt < job.options.attempts;
    if (canRetry && !this.closing) {
      this.enqueue(state, { ...job, attempt: job.attempt + 1 }, retryDelayMs(job.options.backoff, job.attempt));
      return;
    }
    if (canRetry) this.logger.warn({ queue: state.name, jobId: job.id }, "queue closing: retry of failed job dropped");
    state.liveIds.delete(job.id);
    if (this.maxDeadLetters === 0) return;
    state.deadLetters.push({ id: job.id, queue: state.name, data: job.data, attempts: job.attempt, error: errorText(error), failedAtMs: this.now() });
    if (state.deadLetters.length > this.maxDeadLetters) state.deadLetters.shift();
  }
}
