import { createRequire } from "node:module";
import type * as Ioredis from "ioredis";
import type { Redis } from "ioredis";

/**
 * ioredis (CommonJS, ~0.1 CPU-s to load) is required when the first client is made, so a process without
 * Redis never loads it; BullMQ's own import of it shares the same module.
 */
const loadIoredis = (): typeof Ioredis => createRequire(import.meta.url)("ioredis") as typeof Ioredis;

/** Reconnect forever (Redis restarts must heal by themselves) but back off to at most 5 s between tries. */
const MAX_RECONNECT_DELAY_MS = 5_000;
export const REDIS_CONNECT_TIMEOUT_MS = 3_000;

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

export interface RedisClientOptions {
  /** CLIENT SETNAME, so `CLIENT LIST` on the server says which part of meshsight a connection is. */
  connectionName: string;
  /** Connect on the first command (default) or only on connect(). */
  lazyConnect?: boolean;
  /** Every error the client emits (connection refused, reset); commands still fail on their own. */
  onError?: (error: Error) => void;
}

/**
 * The one way meshsight opens a Redis connection for commands (BullMQ's workers open their own blocking
 * ones). Commands fail fast while Redis is away (`enableOfflineQueue: false`, one retry) instead of waiting
 * in an unbounded offline queue, and the client reconnects on its own with a capped backoff.
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const { Redis } = loadIoredis();
  const client = new Redis(url, {
    lazyConnect: options.lazyConnect ?? false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelayMs,
    connectionName: options.connectionName,
  });
  // Errors reach callers through the failing commands; without a listener ioredis would print each one.
  client.on("error", options.onError ?? (() => undefined));
  return client;
}

/** QUIT, or drop the socket when Redis is gone and QUIT cannot be sent. */
export async function closeRedisClient(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
