import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { programSizeOf } from "./user-regex.ts";

/**
 * Matching that cannot hold the event loop, for user patterns run against large inputs (a probe's response
 * body, a tcp reply). RE2 is linear in the input, but the factor is the pattern's program size: a
 * 3,000-instruction pattern such as `(?:b?){1000}b{1000}c` against a 1 MiB body takes about a minute even
 * on RE2. So a match whose worst case (program size x input length) is small runs here at once; a larger
 * one runs on a helper thread under a hard time limit, and the thread is terminated when it is over.
 */

/** A match that took longer than its limit; the pattern is too costly for the input. */
export class RegexTimeLimitError extends Error {
  override readonly name = "RegexTimeLimitError";
}

export interface BoundedMatchLimits {
  /** Program size x input characters up to which a match runs on the calling thread (a few tens of ms at worst). */
  inThreadWork: number;
  /** Time limit of an off-thread match: this much, plus msPerMiB for each MiB of input. */
  baseMs: number;
  msPerMiB: number;
  /** Off-thread matches waiting at most; more are refused. */
  maxQueued: number;
}

export const DEFAULT_BOUNDED_MATCH_LIMITS: BoundedMatchLimits = { inThreadWork: 200_000, baseMs: 1_000, msPerMiB: 100, maxQueued: 256 };

interface Job {
  source: string;
  input: string;
  resolve: (matched: boolean) => void;
  reject: (error: Error) => void;
}

/** The helper thread's program: plain JavaScript evaluated as CommonJS, so it needs no TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { RE2JS } = require(workerData.re2jsPath);
const programs = new Map();
parentPort.postMessage({ ready: true });
parentPort.on("message", ({ source, input }) => {
  try {
    let program = programs.get(source);
    if (!program) {
      program = RE2JS.compile(source);
      programs.set(source, program);
      if (programs.size > 100) programs.delete(programs.keys().next().value);
    }
    parentPort.postMessage({ matched: program.test(input) });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

const RE2JS_PATH = createRequire(import.meta.url).resolve("re2js");

export class BoundedRegexMatcher {
  private worker: Worker | undefined;
  /** Set once the helper thread has loaded the engine: a match's time limit starts after that. */
  private isWorkerReady = false;
  private readonly queue: Job[] = [];
  private running: { job: Job; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly limits: BoundedMatchLimits = DEFAULT_BOUNDED_MATCH_LIMITS) {}

  /**
   * `regex.test(input)` within the limits: at once when cheap, else on the helper thread. Rejects with
   * RegexTimeLimitError past the time limit; a waiting match is dropped when `signal` aborts.
   */
  test(regex: RegExp, input: string, signal?: AbortSignal): Promise<boolean> {
    if (programSizeOf(regex) * Math.max(1, input.length) <= this.limits.inThreadWork) return Promise.resolve(regex.test(input));
    if (this.queue.length >= this.limits.maxQueued) return Promise.reject(new RegexTimeLimitError(`${this.limits.maxQueued} regular expression matches are already waiting`));
    return new Promise<boolean>((resolve, reject) => {
      const job: Job = { source: regex.source, input, resolve, reject };
      const onAbort = () => {
        const index = this.queue.indexOf(job);
        if (index >= 0) this.queue.splice(index, 1);
        if (index >= 0) reject(new RegexTimeLimitError("the run ended before the match started"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = <T>(finish: (value: T) => void) => (value: T) => {
        signal?.removeEventListener("abort", onAbort);
        finish(value);
      };
      job.resolve = settle(resolve);
      job.reject = settle(reject);
      this.queue.push(job);
      this.next();
    });
  }

  /** Ends the helper thread; waiting matches are refused. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new RegexTimeLimitError("the matcher is closed"));
    const worker = this.worker;
    this.worker = undefined;
    this.isWorkerReady = false;
    await worker?.terminate();
  }

  private next(): void {
    if (this.running || this.queue.length === 0) return;
    const worker = this.workerThread();
    if (!this.isWorkerReady) return;
    const job = this.queue.shift();
    if (!job) return;
    const limitMs = Math.ceil(this.limits.baseMs + (this.limits.msPerMiB * job.input.length) / (1024 * 1024));
    const timer = setTimeout(() => {
      // The thread is busy matching and cannot be interrupted: end it, and the next match gets a new one.
      this.discardWorker();
      this.finish(() => job.reject(new RegexTimeLimitError(`the match took longer than ${limitMs} ms on ${job.input.length} characters`)));
    }, limitMs);
    this.running = { job, timer };
    worker.postMessage({ source: job.source, input: job.input });
  }

  private workerThread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { re2jsPath: RE2JS_PATH }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
    // An idle helper thread must not keep the process alive.
    worker.unref();
    worker.on("message", (reply: { ready?: true; matched?: boolean; error?: string }) => {
      if (reply.ready) {
        this.isWorkerReady = true;
        this.next();
        return;
      }
      const job = this.running?.job;
      if (!job) return;
      this.finish(() => (reply.error === undefined ? job.resolve(reply.matched === true) : job.reject(new Error(reply.error))));
    });
    worker.on("error", (error: Error) => {
      const job = this.running?.job ?? this.queue.shift();
      this.discardWorker();
      if (job) this.finish(() => job.reject(error));
    });
    this.worker = worker;
    return worker;
  }

  private discardWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.isWorkerReady = false;
    worker?.removeAllListeners("message");
    worker?.removeAllListeners("error");
    worker?.on("error", () => undefined);
    void worker?.terminate();
  }

  private finish(settle: () => void): void {
    if (this.running) clearTimeout(this.running.timer);
    this.running = undefined;
    settle();
    this.next();
  }
}
