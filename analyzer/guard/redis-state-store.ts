import { Redis } from "ioredis";
import type { GuardStateStore, StateChange } from "./state-store.ts";

/** Writers racing for one key retry this often before the operation is refused (fail closed). */
const MAX_ATTEMPTS = 20;
const CONNECT_TIMEOUT_MS = 3_000;

export class GuardStateContentionError extends Error {
  override readonly name = "GuardStateContentionError";
}

/**
 * Guard state shared by every replica: one Redis string of JSON per key, changed under WATCH/MULTI/EXEC
 * (optimistic locking), so two replicas spending the last token of a bucket cannot both succeed: the
 * second EXEC fails and its change runs again on the new value.
 */
export class RedisGuardStateStore implements GuardStateStore {
  private readonly client: Redis;
  /** WATCH belongs to the connection: updates on one client run one at a time or one EXEC would unwatch another's key. */
  private updates: Promise<unknown> = Promise.resolve();

  constructor(
    url: string,
    private readonly keyPrefix: string,
  ) {
    // Fail fast while disconnected: a guard decision must not wait in an unbounded offline queue.
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: CONNECT_TIMEOUT_MS, connectionName: "meshsight-risk-guard" });
    // Errors reach callers through the failing commands; without a listener ioredis would print each one.
    this.client.on("error", () => undefined);
  }

  async start(): Promise<void> {
    await this.client.connect();
  }

  async stop(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  update<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R> {
    const run = this.updates.catch(() => undefined).then(() => this.watchedUpdate(key, change));
    this.updates = run;
    return run;
  }

  private async watchedUpdate<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R> {
    const redisKey = this.keyPrefix + key;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      await this.client.watch(redisKey);
      const text = await this.client.get(redisKey);
      let outcome: StateChange<R>;
      try {
        outcome = change(text === null ? undefined : (JSON.parse(text) as unknown));
      } catch (error) {
        await this.client.unwatch();
        throw error;
      }
      const transaction = this.client.multi();
      if (outcome.next === undefined) transaction.del(redisKey);
      else if (outcome.ttlMs === undefined) transaction.set(redisKey, JSON.stringify(outcome.next));
      else transaction.set(redisKey, JSON.stringify(outcome.next), "PX", Math.max(1, Math.ceil(outcome.ttlMs)));
      // null: another writer changed the key after WATCH; read it again and redo the change.
      if ((await transaction.exec()) !== null) return outcome.result;
    }
    throw new GuardStateContentionError(`guard key ${key} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  async get(key: string): Promise<unknown> {
    const text = await this.client.get(this.keyPrefix + key);
    return text === null ? undefined : (JSON.parse(text) as unknown);
  }

  async list(prefix: string, max: number): Promise<Array<{ key: string; value: unknown }>> {
    const found: Array<{ key: string; value: unknown }> = [];
    let cursor = "0";
    do {
      const [next, keys] = await this.client.scan(cursor, "MATCH", `${escapeGlob(this.keyPrefix + prefix)}*`, "COUNT", 200);
      cursor = next;
      for (const redisKey of keys) {
        if (found.length >= max) return found;
        const text = await this.client.get(redisKey);
        if (text !== null) found.push({ key: redisKey.slice(this.keyPrefix.length), value: JSON.parse(text) as unknown });
      }
    } while (cursor !== "0" && found.length < max);
    return found;
  }
}

/** Keys hold namespace and node names; a '*' or '[' in them must not widen the SCAN pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
