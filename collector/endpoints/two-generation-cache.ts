/**
 * A bounded cache that approximates LRU at the cost of plain Map operations: entries go into a young
 * generation; when it fills, it becomes the old generation and the previous old one is dropped whole. A hit
 * in the old generation is promoted. Memory never exceeds two generations, and a hit costs one lookup,
 * where a strict LRU would need a delete and a re-insert on every hit.
 */
export class TwoGenerationCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly generationSize: number) {
    if (!(generationSize >= 1)) throw new RangeError(`cache generation size must be >= 1, got ${generationSize}`);
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const oldHit = this.old.get(key);
    if (oldHit !== undefined) this.set(key, oldHit);
    return oldHit;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  /** Entries held, both generations (an entry may be counted twice right after promotion). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
