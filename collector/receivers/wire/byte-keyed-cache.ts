/**
 * A bounded cache keyed by a byte range of a message buffer, so the decoder can recognise a value it has
 * seen (a cluster name, a pod address, an Istio peer) without first turning the bytes into a string: on a
 * hit it costs a hash and a byte comparison, where a string key costs a decode, an allocation and the
 * string's own hashing. Values handed out are shared, and strings returned again are the same objects,
 * whose hashes V8 has cached for the map lookups downstream.
 *
 * Two-way set associative with a fixed number of slots: memory is bounded by `slots` x `maxKeyBytes`
 * whatever arrives, and a flood of one-off keys (ephemeral ports, unique paths) can only evict, never grow.
 */

/** Keys up to this long are compared in JS; longer ones through Buffer's native memcmp, whose call costs more. */
const MAX_JS_COMPARE_BYTES = 48;

export class ByteKeyedCache<V> {
  private readonly setMask: number;
  private readonly hashes: Int32Array;
  private readonly keys: (Buffer | undefined)[];
  private readonly values: (V | undefined)[];
  /** Per set: which of its two ways was used last, so a miss evicts the other one. */
  private readonly lastUsedWay: Uint8Array;

  /**
   * @param slots total entries held (rounded up to a power of two, at least 2)
   * @param maxKeyBytes longer keys are never cached (the caller decodes them every time)
   */
  constructor(
    slots: number,
    readonly maxKeyBytes: number,
  ) {
    if (!(slots >= 2) || !(maxKeyBytes >= 1)) throw new RangeError(`ByteKeyedCache needs slots >= 2 and maxKeyBytes >= 1, got ${slots} and ${maxKeyBytes}`);
    const capacity = 2 ** Math.ceil(Math.log2(slots));
    this.setMask = capacity / 2 - 1;
    this.hashes = new Int32Array(capacity);
    this.keys = new Array<Buffer | undefined>(capacity).fill(undefined);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.lastUsedWay = new Uint8Array(capacity / 2);
  }

  /** The value cached for bytes[start, end) (whose `hashBytes` is `hash`), or undefined. */
  get(bytes: Buffer, start: number, end: number, hash: number): V | undefined {
    const set = hash & this.setMask;
    const first = set << 1;
    if (this.isKeyAt(first, bytes, start, end, hash)) {
      this.lastUsedWay[set] = 0;
      return this.values[first];
    }
    if (this.isKeyAt(first + 1, bytes, start, end, hash)) {
      this.lastUsedWay[set] = 1;
      return this.values[first + 1];
    }
    return undefined;
  }

  /** Caches `value` for bytes[start, end), evicting the less recently used entry of its set. */
  set(bytes: Buffer, start: number, end: number, hash: number, value: V): void {
    if (end - start > this.maxKeyBytes) return;
    const set = hash & this.setMask;
    const way = this.lastUsedWay[set] === 0 ? 1 : 0;
    const slot = (set << 1) + way;
    // A copy: holding a view would pin the whole message buffer for as long as the entry lives.
    this.keys[slot] = Buffer.from(bytes.subarray(start, end));
    this.hashes[slot] = hash;
    this.values[slot] = value;
    this.lastUsedWay[set] = way;
  }

  private isKeyAt(slot: number, bytes: Buffer, start: number, end: number, hash: number): boolean {
    const key = this.keys[slot];
    if (key === undefined || this.hashes[slot] !== hash) return false;
    const length = end - start;
    if (key.length !== length) return false;
    if (length > MAX_JS_COMPARE_BYTES) return bytes.compare(key, 0, length, start, end) === 0;
    for (let index = 0; index < length; index++) {
      if (key[index] !== bytes[start + index]) return false;
    }
    return true;
  }
}

/**
 * A 32-bit hash of bytes[start, end), four bytes per step with Murmur's multiplier: only as good as a
 * cache index needs (collisions cost a miss, never a wrong answer, since keys are compared in full).
 */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = end - start;
  let index = start;
  for (; index + 4 <= end; index += 4) {
    const word = (bytes[index] as number) | ((bytes[index + 1] as number) << 8) | ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24);
    hash = Math.imul(hash ^ word, 0x5bd1e995);
    hash ^= hash >>> 15;
  }
  for (; index < end; index++) hash = Math.imul(hash ^ (bytes[index] as number), 0x5bd1e995);
  hash ^= hash >>> 13;
  return hash | 0;
}
