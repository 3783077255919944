/**
 * How the BullMQ adapter talks to Redis when Redis misbehaves. An unreachable Redis must give callers a
 * clear error quickly and the log one line per interval, not hang add() or print a line per reconnect.
 */
import { Redis } from "ioredis";
import type { RateLimitedLog } from "../telemetry/rate-limited-log.ts";
import { errorText } from "./job-options.ts";

/** Reconnect forever (Redis restarts must heal by themselves) but back off to at most 5 s between tries. */
const MAX_RECONNECT_DELAY_MS = 5_000;
/** How long an operation waits for a (re)connecting client before failing with QueueUnavailableError. */
const READY_WAIT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 3_000;

export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
}

export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS);
}

/** The URL without credentials, for error messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid redis url>";
  }
}

/**
 * Options for the connections BullMQ opens itself (workers). BullMQ forces `maxRetriesPerRequest: null`
 * on blocking connections, so only the reconnect pacing is ours.
 */
export function workerConnectionOptions(url: string, connectionName: string): { url: string; retryStrategy: (times: number) => number; connectTimeout: number; connectionName: string } {
  return { url, retryStrategy: reconnectDelayMs, connectTimeout: CONNECT_TIMEOUT_MS, connectionName };
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
    this.client = new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: reconnectDelayMs,
      connectionName: "meshsight-queue-control",
    });
    this.client.on("error", (error: Error) => {
      this.lastError = error.message;
      this.reportError("control", error);
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

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      // Quitting a disconnected client fails; dropping the socket is all that is left to do.
      this.client.disconnect();
    }
  }

  unavailable(reason: string): QueueUnavailableError {
    return new QueueUnavailableError(`redis at ${redactRedisUrl(this.url)} is unreachable (${reason}); the job queue cannot accept work`);
  }
}
