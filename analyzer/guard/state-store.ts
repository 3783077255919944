import { StateFullError, type StateStore } from "../../core/state/port.ts";

/** What a change function returns: the new value (undefined deletes the key), its lifetime, and the caller's answer. */
export interface StateChange<R> {
  next: unknown;
  /** Forget the key after this long (an idle bucket is full again anyway); undefined keeps it. */
  ttlMs?: number;
  result: R;
}

/**
 * Where the guard keeps buckets, trips and recent acts. `update` is an atomic read-modify-write of one key,
 * so replicas sharing Redis never both spend the last token; its `change` may run more than once when
 * another writer got there first, so it must be a pure function of the value it is given.
 */
export interface GuardStateStore {
  update<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R>;
  get(key: string): Promise<unknown>;
  /** Keys starting with `prefix`, at most `max` of them. */
  list(prefix: string, max: number): Promise<Array<{ key: string; value: unknown }>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The store is full of keys that must not be forgotten (trips); the guard refuses rather than lose one. */
export class GuardStateFullError extends Error {
  override readonly name = "GuardStateFullError";
}

export class GuardStateContentionError extends Error {
  override readonly name = "GuardStateContentionError";
}

/** Writers racing for one key retry this often before the operation is refused (fail closed). */
const MAX_ATTEMPTS = 20;

/**
 * The guard's state in the "guard" state namespace (core/state/port.ts): a file for one replica, Redis shared
 * by every replica. `update` reads a key and writes it back with compare-and-set, so two replicas spending the
 * last token of a bucket cannot both succeed: the second write finds a newer version and its change runs again
 * on the new value. A write is stored before `update` resolves: a decision is kept before it is acted on.
 */
export class StateGuardStore implements GuardStateStore {
  constructor(private readonly store: StateStore) {}

  start(): Promise<void> {
    return this.store.start();
  }

  stop(): Promise<void> {
    return this.store.stop();
  }

  async update<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get(key);
      const outcome = change(current?.value);
      try {
        const written = await this.store.compareAndSet(key, current?.version ?? 0, outcome.next, outcome.ttlMs === undefined ? {} : { ttlMs: outcome.ttlMs });
        if (written.isSet) return outcome.result;
      } catch (error) {
        if (error instanceof StateFullError) throw new GuardStateFullError(`${error.message}; reset trips or raise actions.guard.maxKeys`);
        throw error;
      }
    }
    throw new GuardStateContentionError(`guard key ${key} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  async get(key: string): Promise<unknown> {
    return (await this.store.get(key))?.value;
  }

  async list(prefix: string, max: number): Promise<Array<{ key: string; value: unknown }>> {
    return (await this.store.list(prefix, max)).map((entry) => ({ key: entry.key, value: entry.value }));
  }
}

/**
 * The guard's file before the state port: `{"entries": {key: {value, expiresAtMs?}}}`. Keys without expiry
 * (tripped buckets) are kept; the rest would have expired into full buckets anyway.
 */
export function legacyGuardFile(parsed: unknown): Record<string, unknown> | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { entries } = parsed as { entries?: unknown };
  if (typeof entries !== "object" || entries === null) return undefined;
  const kept = Object.entries(entries as Record<string, { value?: unknown; expiresAtMs?: number }>).filter(([, entry]) => entry.expiresAtMs === undefined);
  return Object.fromEntries(kept.map(([key, entry]) => [key, entry.value]));
}
