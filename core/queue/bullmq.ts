/**
 * The job queue on Redis through BullMQ, for when several meshsight processes share work. Passes the same
 * conformance suite as the in-process queue (test/conformance/queue).
 *
 * Mapping: one BullMQ Queue per queue name (created on first use, sharing one control connection), one
 * BullMQ Worker per work() call (with its own connections, as BullMQ's blocking fetch requires),
 * PermanentJobError -> UnrecoverableError, schedules -> job schedulers, dead letters -> the failed set.
 *
 * Differences from the in-process queue that the port allows: counts().completed and failed are what
 * Redis still keeps (bounded by maxCompletedKept / maxDeadLetters), not totals since start; a schedule
 * keeps one delayed job of its own, which counts toward maxPending but is never refused by it.
 */
import { Queue, UnrecoverableError, Worker, type Job as BullJob, type JobsOptions, type KeepJobs } from "bullmq";
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
  jsonCopy,
  resolveJobOptions,
  validateQueueName,
  validateSchedule,
  validateWorkerOptions,
  type ResolvedJobOptions,
} from "./job-options.ts";
import { escapeColons, fromBullJobId, toBullJobId } from "./bullmq-ids.ts";
import { ControlConnection, QueueUnavailableError, redactRedisUrl, workerConnectionOptions } from "./redis-connection.ts";
import { RateLimitedLog } from "../telemetry/rate-limited-log.ts";

export interface BullMqQueueOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Namespaces every Redis key, so several deployments (or tests) can share one Redis. */
  prefix: string;
  /**
   * Per queue: add() throws QueueFullError once waiting + delayed jobs reach this. Approximate across
   * processes: the count and the add are two commands, so concurrent adders can overshoot by a few jobs.
   */
  maxPending: number;
  logger: Logger;
  /** Failed jobs kept per queue in Redis (the dead-letter view); older ones are deleted. Default 1000. */
  maxDeadLetters?: number;
  /** Completed jobs kept per queue, for counts and debugging; older ones are deleted. Default 1000. */
  maxCompletedKept?: number;
}

const MAX_QUEUES = 1_000;
const DEFAULT_KEPT_JOBS = 1_000;
/** States in which a job with the same id still counts as pending for jobId dedupe. */
const LIVE_STATES = new Set(["waiting", "delayed", "active", "prioritized", "waiting-children"]);

function keptJobsCount(option: string, value: number | undefined): number {
  const count = value ?? DEFAULT_KEPT_JOBS;
  if (!Number.isInteger(count) || count < 0) throw new InvalidQueueOptionError(`${option} must be an integer >= 0, got ${String(count)}`);
  return count;
}

export class BullMqQueue implements JobQueue {
  readonly name = "bullmq";
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, Worker>();
  private readonly control: ControlConnection;
  private readonly keepJobs: { removeOnComplete: KeepJobs; removeOnFail: KeepJobs };
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BullMqQueueOptions) {
    if (!Number.isInteger(options.maxPending) || options.maxPending < 1) {
      throw new InvalidQueueOptionError(`maxPending must be an integer >= 1, got ${String(options.maxPending)}`);
    }
    if (!/^rediss?:\/\/[^/]/.test(options.url)) {
      throw new InvalidQueueOptionError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(redactRedisUrl(options.url))}`);
    }
    if (!options.prefix || options.prefix.includes(":")) {
      throw new InvalidQueueOptionError(`prefix must be a non-empty string without ":", got ${JSON.stringify(options.prefix)}`);
    }
    this.keepJobs = {
      removeOnComplete: { count: keptJobsCount("maxCompletedKept", options.maxCompletedKept) },
      removeOnFail: { count: keptJobsCount("maxDeadLetters", options.maxDeadLetters) },
    };
    this.control = new ControlConnection(options.url, new RateLimitedLog(options.logger));
  }

  async add<T>(queue: string, data: T, options?: JobOptions): Promise<string> {
    this.assertOpen();
    validateQueueName(queue);
    const resolved = resolveJobOptions(queue, options);
    const payload = jsonCopy(queue, data);
    return this.guard(async () => {
      const bullQueue = await this.queueFor(queue);
      if (resolved.jobId !== undefined) {
        const pendingId = await this.clearFinishedJob(bullQueue, resolved.jobId);
        if (pendingId !== undefined) return pendingId;
      }
      const pending = await bullQueue.getJobCounts("waiting", "prioritized", "delayed");
      if ((pending.waiting ?? 0) + (pending.prioritized ?? 0) + (pending.delayed ?? 0) >= this.options.maxPending) {
        throw new QueueFullError(queue, this.options.maxPending);
      }
      const job = await bullQueue.add(queue, payload, {
        ...this.retryOptions(resolved),
        ...(resolved.delayMs > 0 ? { delay: resolved.delayMs } : {}),
        ...(resolved.jobId !== undefined ? { jobId: toBullJobId(resolved.jobId) } : {}),
      });
      return fromBullJobId(job.id);
    });
  }

  work<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions): void {
    this.assertOpen();
    validateQueueName(queue);
    validateWorkerOptions(queue, options);
    if (this.workers.has(queue)) throw new Error(`queue "${queue}" already has a worker in this process`);
    const processJob = async (job: BullJob<T>): Promise<void> => {
      try {
        await handler({ id: fromBullJobId(job.id), queue, data: job.data, attempt: job.attemptsMade + 1 });
      } catch (error) {
        if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
        throw error instanceof Error ? error : new Error(errorText(error));
      }
    };
    const worker = new Worker<T>(queue, processJob, {
      connection: workerConnectionOptions(this.options.url, `meshsight-worker-${queue}`),
      prefix: this.options.prefix,
      concurrency: options.concurrency,
      ...this.keepJobs,
    });
    worker.on("error", (error) => this.control.reportError(`worker:${queue}`, error));
    this.workers.set(queue, worker);
  }

  async upsertSchedule<T>(queue: string, scheduleId: string, schedule: Schedule, data: T, options?: JobOptions): Promise<void> {
    this.assertOpen();
    validateQueueName(queue);
    validateSchedule(queue, scheduleId, schedule);
    const resolved = resolveJobOptions(queue, { ...options, delayMs: 0, jobId: undefined });
    const template = jsonCopy(queue, data);
    await this.guard(async () => {
      const bullQueue = await this.queueFor(queue);
      const repeat = "everyMs" in schedule ? { every: schedule.everyMs } : { pattern: schedule.pattern };
      await bullQueue.upsertJobScheduler(escapeColons(scheduleId), repeat, { name: queue, data: template, opts: this.retryOptions(resolved) });
    });
  }

  async removeSchedule(queue: string, scheduleId: string): Promise<void> {
    this.assertOpen();
    validateQueueName(queue);
    await this.guard(async () => {
      await (await this.queueFor(queue)).removeJobScheduler(escapeColons(scheduleId));
    });
  }

  async counts(queue: string): Promise<QueueCounts> {
    validateQueueName(queue);
    return this.guard(async () => {
      const counts = await (await this.queueFor(queue)).getJobCounts("waiting", "prioritized", "delayed", "active", "failed", "completed");
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
      };
    });
  }

  async deadLetters(queue: string, limit: number): Promise<FailedJob[]> {
    validateQueueName(queue);
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidQueueOptionError(`deadLetters limit must be an integer >= 0, got ${String(limit)}`);
    if (limit === 0) return [];
    return this.guard(async () => {
      // The failed set is ordered by finish time; BullMQ returns it newest first.
      const failed = await (await this.queueFor(queue)).getFailed(0, limit - 1);
      return failed.map((job) => ({
        id: fromBullJobId(job.id),
        queue,
        data: job.data as unknown,
        attempts: job.attemptsMade,
        error: job.failedReason,
        failedAtMs: job.finishedOn ?? job.timestamp,
      }));
    });
  }

  ping(): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    return this.control.ping();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Workers first: Worker.close() waits for the jobs it is running, which may still add follow-up jobs.
    this.logCloseFailures(await Promise.allSettled([...this.workers.values()].map((worker) => worker.close())));
    this.logCloseFailures(await Promise.allSettled([...this.queues.values()].map((queue) => queue.close())));
    await this.control.close();
  }

  /** Shutdown goes on past a failing close (Redis may be gone), but the failure must be visible. */
  private logCloseFailures(results: PromiseSettledResult<void>[]): void {
    for (const result of results) {
      if (result.status === "rejected") this.options.logger.warn({ error: errorText(result.reason) }, "closing a BullMQ queue or worker failed");
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new Error(`${this.name} queue is closed`);
  }

  private retryOptions(resolved: ResolvedJobOptions): Pick<JobsOptions, "attempts" | "backoff" | "removeOnComplete" | "removeOnFail"> {
    return {
      attempts: resolved.attempts,
      ...(resolved.backoff ? { backoff: { type: resolved.backoff.type, delay: resolved.backoff.delayMs } } : {}),
      ...this.keepJobs,
    };
  }

  private async queueFor(name: string): Promise<Queue> {
    await this.control.ready();
    let queue = this.queues.get(name);
    if (queue) return queue;
    if (this.queues.size >= MAX_QUEUES) throw new Error(`too many queues (${MAX_QUEUES}); queue names must come from code, not input`);
    queue = new Queue(name, { connection: this.control.client, prefix: this.options.prefix, defaultJobOptions: this.keepJobs });
    queue.on("error", (error) => this.control.reportError(`queue:${name}`, error));
    this.queues.set(name, queue);
    return queue;
  }

  /**
   * Port semantics: a jobId is deduped only while its job is pending. BullMQ keeps finished jobs under
   * their id (until trimmed) and would silently ignore the new add, so a finished one is removed first.
   * Returns the id when a pending job already has it.
   */
  private async clearFinishedJob(queue: Queue, jobId: string): Promise<string | undefined> {
    const existing = await queue.getJob(toBullJobId(jobId));
    if (!existing) return undefined;
    if (LIVE_STATES.has(await existing.getState())) return jobId;
    await existing.remove();
    return undefined;
  }

  /** Turns Redis connection failures into QueueUnavailableError; passes the port's own errors through. */
  private async guard<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof QueueFullError || error instanceof InvalidQueueOptionError || error instanceof QueueUnavailableError) throw error;
      if (this.control.client.status !== "ready") throw this.control.unavailable(errorText(error));
      throw error;
    }
  }
}
