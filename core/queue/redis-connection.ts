/**
 * How the BullMQ adapter talks to Redis when Redis misbehaves. An unreachable Redis must give callers a
 * clear error quickly and the log one line per interval, not hang add() or print a line per reconnect.
 */
import type { Redis } from "ioredis";
import { closeRedisClient, createRedisClient, reconnectDelayMs, REDIS_CONNECT_TIMEOUT_MS, redactRedisUrl } from "../redis/connection.ts";
import type { RateLimitedLog } from "../telemetry/rate-limited-log.ts";
import { errorText } from "./job-options.ts";

export { redactRedisUrl };

/** How long an operation waits for a (re)connecting client before failing with QueueUnavailableError. */
const READY_WAIT_MS = 2_000;

export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
}

/**
 * Options for the connections BullMQ opens itself (workers). BullMQ forces `maxRetriesPerRequest: null`
 * on blocking connections, so only the reconnect pacing is ours.
 */
export function workerConnectionOptions(url: string, connectionName: string): { url: string; retryStrategy: (times: number) => number; connectTimeout: number; connectionName: string } {
  return { url, retryStrategy: reconnectDelayMs, connectTimeout: REDIS_CONNECT_TIMEOUT_MS, connectionName };
}

/**
 * The client used for adds, counts, schedules and ping. Commands fail fast while disconnected
 * (`enableOfflineQueue: false`, one retry per request) instead of queueing without bound in memory.
 */
export class ControlConnection {
  readonly client: Redis;
  private lastError = "not connected yet";

  constructor(
    private readonly url: string,
    private readonly log: RateLimitedLog,
  ) {
    this.client = createRedisClient(url, {
      connectionName: "meshsight-queue-control",
      onError: (error) => {
        this.lastError = error.message;
        this.reportError("control", error);
      },
    });
  }

  /** Logs a Redis problem at most once per interval per source. */
  reportError(source: string, error: unknown): void {
    this.log.warn(`redis:${source}`, { redis: redactRedisUrl(this.url), source, error: errorText(error) }, "redis unavailable for the job queue");
  }

  /** Resolves once the client is ready; throws QueueUnavailableError after a short wait otherwise. */
  async ready(): Promise<void> {
    if (this.client.status === "ready") return;
    if (this.client.status === "end") throw this.unavailable("connection closed");
    let onReady: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        this.client.once("ready", onReady);
        timer = setTimeout(() => reject(this.unavailable(this.lastError)), READY_WAIT_MS);
        timer.unref();
      });
    } finally {
      clearTimeout(timer);
      if (onReady) this.client.off("ready", onReady);
    }
  }

  /** True when Redis answers; a client still (re)connecting gets the same short wait as operations. */
  async ping(): Promise<boolean> {
    try {
      await this.ready();
    } catch {
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("timeout"), READY_WAIT_MS);
      timer.unref();
    });
    try {
      return (await Promise.race([this.client.ping(), timeout])) === "PONG";
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return closeRedisClient(this.client);
  }

  unavailable(reason: string): QueueUnavailableError {
    return new QueueUnavailableError(`redis at ${redactRedisUrl(this.url)} is unreachable (${reason}); the job queue cannot accept work`);
  }
}
