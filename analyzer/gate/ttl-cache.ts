export interface Cached<T> {
  value: T;
  /** When the value was loaded: an answer from the cache says how old its evidence is. */
  loadedAtMs: number;
  isCached: boolean;
}

interface Entry<T> {
  loading: Promise<T>;
  loadedAtMs: number | undefined;
}

export interface TtlCacheOptions {
  /** How long a loaded value answers later calls (0: every call loads). */
  ttlMs: number;
  /** Keys kept at most; the oldest go first. */
  maxEntries: number;
  now: () => number;
}

/**
 * A small cache for gate evidence (probe runs, metric reads): calls that arrive while a load is in flight
 * share it, a loaded value is reused for `ttlMs`, and a failed load is forgotten so the next call retries.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: TtlCacheOptions) {}

  async get(key: string, load: () => Promise<T>): Promise<Cached<T>> {
    const { now, ttlMs } = this.options;
    const known = this.entries.get(key);
    if (known && (known.loadedAtMs === undefined || now() - known.loadedAtMs < ttlMs)) {
      const value = await known.loading;
      return { value, loadedAtMs: known.loadedAtMs ?? now(), isCached: true };
    }
    const entry: Entry<T> = { loading: load(), loadedAtMs: undefined };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    try {
      const value = await entry.loading;
      entry.loadedAtMs = now();
      return { value, loadedAtMs: entry.loadedAtMs, isCached: false };
    } catch (error) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    }
  }
}
