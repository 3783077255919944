import type { Redis } from "ioredis";
import type { Component } from "../lifecycle.ts";
import { backingServiceComponent } from "../lifecycle.ts";
import { closeRedisClient, createRedisClient, redactRedisUrl } from "../redis/connection.ts";
import { FileStateStore } from "./file-state.ts";
import type { OpenState, StateLimits } from "./port.ts";
import { RedisStateStore } from "./redis-state.ts";

/** Bounds of a namespace unless its user asks for others. */
export const DEFAULT_STATE_LIMITS: StateLimits = { maxKeys: 100_000, maxValueBytes: 64 * 1024 * 1024 };

const CONNECT_TIMEOUT_MS = 10_000;

export interface StateStores {
  open: OpenState;
  /** True when the namespaces live in Redis, shared by every replica. */
  isShared: boolean;
  /** Connects the shared Redis connection (none for files); start it before the components that open namespaces. */
  component: Component;
}

export interface StateStoresOptions {
  /** With a Redis URL every namespace lives there; else each in its own file. */
  redisUrl?: string;
  /** Namespaces go under `<keyPrefix>:state:<namespace>` (the queue's prefix). */
  keyPrefix: string;
  now?: () => number;
}

/** The state port's adapters as the composition root hands them to components: one Redis connection for all. */
export function createStateStores(options: StateStoresOptions): StateStores {
  const now = options.now ?? Date.now;
  const { redisUrl } = options;
  if (redisUrl === undefined) {
    return {
      isShared: false,
      open: (_namespace, namespace) => new FileStateStore({ file: namespace.file, limits: { ...DEFAULT_STATE_LIMITS, ...namespace.limits }, now, ...(namespace.legacy ? { legacy: namespace.legacy } : {}) }),
      component: { name: "state", start: async () => undefined, stop: async () => undefined },
    };
  }
  const client: Redis = createRedisClient(redisUrl, { connectionName: "meshsight-state", lazyConnect: true });
  return {
    isShared: true,
    open: (namespace, opened) => new RedisStateStore({ client, keyPrefix: `${options.keyPrefix}:state:${namespace}`, limits: { ...DEFAULT_STATE_LIMITS, ...opened.limits }, now }),
    component: backingServiceComponent({
      name: "state",
      target: `Redis at ${redactRedisUrl(redisUrl)}`,
      connect: () => client.connect(),
      isReachable: async () => (await client.ping()) === "PONG",
      close: () => closeRedisClient(client),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    }),
  };
}

/** The file adapter alone: what a component uses when nobody hands it namespaces (one process, tests). */
export function openFileState(now: () => number = Date.now): OpenState {
  return createStateStores({ keyPrefix: "meshsight", now }).open;
}
