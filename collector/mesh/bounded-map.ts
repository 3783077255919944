/**
 * A Map that never holds more than `maxEntries`: inserting into a full map evicts the oldest insertion.
 * Memos keyed by input (cluster names, addresses, peers) use it so that hostile or high-cardinality input
 * costs recomputation, never memory.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`BoundedMap needs maxEntries >= 1, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Returns true when an older entry had to be evicted to make room. */
  set(key: K, value: V): boolean {
    let evicted = false;
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
      evicted = true;
    }
    this.entries.set(key, value);
    return evicted;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
