/**
 * The job-queue port: BullMQ on Redis when configured, an in-process queue otherwise, both passing
 * test/conformance/queue. Semantics follow BullMQ: a failed job is retried with backoff until its
 * attempts are spent, a PermanentJobError fails it at once, and failed jobs stay in a dead-letter view.
 */

export interface Backoff {
  type: "fixed" | "exponential";
  /** Fixed delay, or the first delay that doubles on each retry. */
  delayMs: number;
}

export interface JobOptions {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Total tries including the first; default 1. */
  attempts?: number;
  backoff?: Backoff;
  /** A job with the id of a job still waiting, delayed or active is not added again. */
  jobId?: string;
}

export interface Job<T> {
  id: string;
  queue: string;
  data: T;
  /** 1 on the first try. */
  attempt: number;
}

export type JobHandler<T> = (job: Job<T>) => Promise<void>;

export interface WorkerOptions {
  concurrency: number;
}

/** Repeatable work: every `everyMs` or on a cron `pattern`; upserting the same id replaces it. */
export type Schedule = { everyMs: number } | { pattern: string };

export interface FailedJob {
  id: string;
  queue: string;
  data: unknown;
  attempts: number;
  error: string;
  failedAtMs: number;
}

export interface QueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
  completed: number;
}

export interface JobQueue {
  readonly name: string;
  /** Adds a job; throws QueueFullError when the queue is at its bound (backpressure). Returns the job id. */
  add<T>(queue: string, data: T, options?: JobOptions): Promise<string>;
  /** Starts consuming `queue` with `handler`; at most one worker per queue per process. */
  work<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions): void;
  upsertSchedule<T>(queue: string, scheduleId: string, schedule: Schedule, data: T, options?: JobOptions): Promise<void>;
  removeSchedule(queue: string, scheduleId: string): Promise<void>;
  counts(queue: string): Promise<QueueCounts>;
  /** Most recent failures first. */
  deadLetters(queue: string, limit: number): Promise<FailedJob[]>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<boolean>;
  /** Stops taking jobs, waits for running ones, closes connections. */
  close(): Promise<void>;
}

/** Thrown by a handler when retrying cannot help; the job fails at once (BullMQ's UnrecoverableError). */
export class PermanentJobError extends Error {
  override readonly name = "PermanentJobError";
}

/** Thrown by add() when the queue holds its maximum of pending jobs. */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
  constructor(
    readonly queue: string,
    readonly limit: number,
  ) {
    super(`queue "${queue}" is full (${limit} pending jobs); retry later`);
  }
}
