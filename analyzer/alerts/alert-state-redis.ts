import { Redis } from "ioredis";
import type { AlertRecord } from "./alert-book.ts";
import type { AlertState } from "./alert-state-file.ts";
import type { AlertStatePart, AlertStateStore } from "./alert-state-store.ts";
import type { Silence } from "./silences.ts";

const FORMAT_VERSION = 1;
const CONNECT_TIMEOUT_MS = 3_000;

export interface RedisAlertStateStoreOptions {
  /** redis:// or rediss:// URL (the queue's Redis). */
  url: string;
  /** Namespaces the keys, like the queue prefix, so several installations can share one Redis. */
  keyPrefix: string;
}

/**
 * Alert state shared by analyzer replicas: one Redis string of JSON per half (`<prefix>:analyzer:alerts`,
 * `<prefix>:analyzer:silences`). No locking: rounds are single-flight across replicas (the analysis queue),
 * and each writer saves only the half it changed. Sizes are bounded by the alert book and silence book
 * caps (analyzer.maxAlertHistory, analyzer.maxSilences), exactly as the state file is.
 */
export class RedisAlertStateStore implements AlertStateStore {
  readonly isShared = true;
  private readonly client: Redis;
  private readonly keys: Record<AlertStatePart, string>;
  /** Saves run one after another, so an older state never lands after a newer one from this process. */
  private writing: Promise<void> = Promise.resolve();

  constructor(options: RedisAlertStateStoreOptions) {
    // Fail fast while Redis is away: a round that cannot load its state fails and the next one retries,
    // instead of waiting in an unbounded offline queue.
    this.client = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: CONNECT_TIMEOUT_MS, connectionName: "meshsight-alert-state" });
    // Errors reach callers through the failing commands; without a listener ioredis would print each one.
    this.client.on("error", () => undefined);
    this.keys = { alerts: `${options.keyPrefix}:analyzer:alerts`, silences: `${options.keyPrefix}:analyzer:silences` };
  }

  async start(): Promise<void> {
    await this.client.connect();
  }

  async stop(): Promise<void> {
    await this.writing.catch(() => undefined);
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  async load(): Promise<AlertState> {
    const [alerts, silences] = await this.client.mget(this.keys.alerts, this.keys.silences);
    return { alerts: parseHalf<AlertRecord>(alerts ?? null, this.keys.alerts), silences: parseHalf<Silence>(silences ?? null, this.keys.silences) };
  }

  save(state: AlertState, parts: readonly AlertStatePart[]): Promise<void> {
    const values = parts.map((part) => [this.keys[part], JSON.stringify({ version: FORMAT_VERSION, items: state[part] })] as const);
    this.writing = this.writing.catch(() => undefined).then(async () => {
      if (values.length > 0) await this.client.mset(...values.flat());
    });
    return this.writing;
  }
}

/** A corrupt value is an error (not silently dropped): a round must not start from an empty book by mistake. */
function parseHalf<T>(text: string | null, key: string): T[] {
  if (text === null) return [];
  const parsed = JSON.parse(text) as { version?: number; items?: unknown };
  if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.items)) throw new Error(`Redis key ${key}: not alert state of version ${FORMAT_VERSION}`);
  return parsed.items as T[];
}
