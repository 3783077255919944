/**
 * Instances announced by the proxies that log calls (pod labels, IP, node...), kept so every instance
 * entity row carries its attributes: storage keeps the row with the latest lastSeenMs, so a row written
 * without attributes would erase them. Bounded: beyond `maxInstances` the least recently noted one goes.
 */
export interface NotedInstance {
  service: string;
  instance: string;
  attributes: Record<string, string>;
  lastSeenMs: number;
}

const KEY_SEPARATOR = "\u0000";

export class InstanceRegistry {
  private readonly instances = new Map<string, NotedInstance>();
  /** Keys noted since the last drain; a subset of `instances`. */
  private readonly seenSinceDrain = new Set<string>();

  constructor(private readonly maxInstances: number) {
    if (!(maxInstances >= 1)) throw new RangeError(`InstanceRegistry: maxInstances must be >= 1, got ${maxInstances}`);
  }

  get size(): number {
    return this.instances.size;
  }

  /** Called once per batch from a proxy, not per record, so building the key here is cheap enough. */
  note(service: string, instance: string, attributes: Record<string, string>, timeMs: number): void {
    if (instance === "") return;
    const key = service + KEY_SEPARATOR + instance;
    const known = this.instances.get(key);
    // Delete and re-insert so Map order is least-recently-noted first: eviction takes the first key.
    if (known !== undefined) this.instances.delete(key);
    else if (this.instances.size >= this.maxInstances) this.evictOldest();
    this.instances.set(key, { service, instance, attributes, lastSeenMs: Math.max(timeMs, known?.lastSeenMs ?? 0) });
    this.seenSinceDrain.add(key);
  }

  attributesOf(service: string, instance: string): Record<string, string> {
    return this.instances.get(service + KEY_SEPARATOR + instance)?.attributes ?? {};
  }

  /** Instances noted since the previous call. */
  drainSeen(): NotedInstance[] {
    const seen: NotedInstance[] = [];
    for (const key of this.seenSinceDrain) {
      const noted = this.instances.get(key);
      if (noted !== undefined) seen.push(noted);
    }
    this.seenSinceDrain.clear();
    return seen;
  }

  private evictOldest(): void {
    const oldest = this.instances.keys().next();
    if (oldest.done === true) return;
    this.instances.delete(oldest.value);
    this.seenSinceDrain.delete(oldest.value);
  }
}
