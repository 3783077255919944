/**
 * Validation and retry arithmetic shared by both queue adapters, so a bad option fails the same way
 * (a clear error at the call site) whichever backend is configured, and retries wait the same time.
 */
import { createRequire } from "node:module";
import type * as CronParser from "cron-parser";
import type { Backoff, JobOptions, Schedule, WorkerOptions } from "./port.ts";

/** cron-parser (CommonJS, with luxon) is required when the first cron pattern is read: most processes have none. */
const loadCronParser = (): typeof CronParser => createRequire(import.meta.url)("cron-parser") as typeof CronParser;

/** Options after defaults: what an adapter actually acts on. */
export interface ResolvedJobOptions {
  delayMs: number;
  attempts: number;
  backoff: Backoff | undefined;
  jobId: string | undefined;
}

/** A bad option is a caller bug: the message names the queue and the option so it can be fixed. */
export class InvalidQueueOptionError extends Error {
  override readonly name = "InvalidQueueOptionError";
}

function isNonNegativeFinite(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

export function resolveJobOptions(queue: string, options: JobOptions = {}): ResolvedJobOptions {
  const delayMs = options.delayMs ?? 0;
  if (!isNonNegativeFinite(delayMs)) {
    throw new InvalidQueueOptionError(`queue "${queue}": delayMs must be a finite number >= 0, got ${String(delayMs)}`);
  }
  const attempts = options.attempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidQueueOptionError(`queue "${queue}": attempts must be an integer >= 1, got ${String(attempts)}`);
  }
  const backoff = options.backoff;
  if (backoff !== undefined) {
    if (backoff.type !== "fixed" && backoff.type !== "exponential") {
      throw new InvalidQueueOptionError(`queue "${queue}": backoff.type must be "fixed" or "exponential", got ${String(backoff.type)}`);
    }
    if (!isNonNegativeFinite(backoff.delayMs)) {
      throw new InvalidQueueOptionError(`queue "${queue}": backoff.delayMs must be a finite number >= 0, got ${String(backoff.delayMs)}`);
    }
  }
  const jobId = options.jobId;
  if (jobId !== undefined && (typeof jobId !== "string" || jobId.length === 0)) {
    throw new InvalidQueueOptionError(`queue "${queue}": jobId must be a non-empty string`);
  }
  return { delayMs: Math.floor(delayMs), attempts, backoff, jobId };
}

export function validateQueueName(queue: string): void {
  // BullMQ builds Redis keys as `<prefix>:<queue>:...`; a colon would make keys ambiguous.
  if (typeof queue !== "string" || queue.length === 0 || queue.length > 200 || queue.includes(":")) {
    throw new InvalidQueueOptionError(`queue name must be 1-200 characters without ":", got ${JSON.stringify(queue)}`);
  }
}

export function validateWorkerOptions(queue: string, options: WorkerOptions): void {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new InvalidQueueOptionError(`queue "${queue}": concurrency must be an integer >= 1, got ${String(options.concurrency)}`);
  }
}

/**
 * Delay before retry number `failedAttempt + 1`, after try `failedAttempt` (1-based) failed. Exponential
 * doubles from the first delay, as BullMQ's built-in strategy does: delay * 2^(failedAttempt - 1).
 */
export function retryDelayMs(backoff: Backoff | undefined, failedAttempt: number): number {
  if (!backoff) return 0;
  if (backoff.type === "fixed") return backoff.delayMs;
  return backoff.delayMs * 2 ** Math.max(0, failedAttempt - 1);
}

/** Checks a schedule up front so a typo in a cron pattern fails upsertSchedule, not a timer later. */
export function validateSchedule(queue: string, scheduleId: string, schedule: Schedule): void {
  if (typeof scheduleId !== "string" || scheduleId.length === 0) {
    throw new InvalidQueueOptionError(`queue "${queue}": schedule id must be a non-empty string, got ${JSON.stringify(scheduleId)}`);
  }
  if ("everyMs" in schedule) {
    if (!Number.isFinite(schedule.everyMs) || schedule.everyMs < 1) {
      throw new InvalidQueueOptionError(`queue "${queue}" schedule "${scheduleId}": everyMs must be a number >= 1, got ${String(schedule.everyMs)}`);
    }
    return;
  }
  if (typeof schedule.pattern !== "string") {
    throw new InvalidQueueOptionError(`queue "${queue}" schedule "${scheduleId}": needs everyMs or a cron pattern`);
  }
  nextCronFireMs(schedule.pattern, Date.now(), `queue "${queue}" schedule "${scheduleId}"`);
}

/**
 * The schedule's first fire time strictly after `afterMs`; `everyMs` aligns to its multiples, as BullMQ
 * does, so both adapters fire alike. Callers pass the later of the clock and the
 * fire time just served: a timer may fire a millisecond before its due time by the wall clock, and
 * computing from the clock alone would then fire the same boundary twice.
 */
export function nextFireMs(schedule: Schedule, afterMs: number, context: string): number {
  if ("everyMs" in schedule) return Math.floor(afterMs / schedule.everyMs) * schedule.everyMs + schedule.everyMs;
  return nextCronFireMs(schedule.pattern, afterMs, context);
}

/** The first fire time of `pattern` strictly after `afterMs`; throws a clear error for a bad pattern. */
export function nextCronFireMs(pattern: string, afterMs: number, context: string): number {
  try {
    return loadCronParser().CronExpressionParser.parse(pattern, { currentDate: afterMs }).next().getTime();
  } catch (error) {
    throw new InvalidQueueOptionError(`${context}: invalid cron pattern ${JSON.stringify(pattern)}: ${errorText(error)}`);
  }
}

/**
 * Job data as a handler will see it: a JSON copy, because that is what BullMQ stores. Doing the same
 * in memory makes a payload that only works in-process (a Date, a Map, a shared mutable object) fail
 * or change identically on both adapters, and rejects what cannot be stored with a clear error.
 */
export function jsonCopy<T>(queue: string, data: T): T {
  if (data === undefined) return data;
  try {
    return JSON.parse(JSON.stringify(data)) as T;
  } catch (error) {
    throw new InvalidQueueOptionError(`queue "${queue}": job data must be JSON-serializable: ${errorText(error)}`);
  }
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}
