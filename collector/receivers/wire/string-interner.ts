/**
 * Strings the decoder sees over and over (cluster names, pod IPs, authorities, paths, user agents) decoded
 * once and handed out again by their bytes (see ByteKeyedCache): a hit skips the UTF-8 decode and the
 * allocation, and downstream map lookups reuse the hash V8 cached on the shared string.
 */
import { ByteKeyedCache, hashBytes } from "./byte-keyed-cache.ts";

const DEFAULT_SLOTS = 16_384;
/** Longer strings (long user agents, long URLs) are rarely repeated byte for byte; they are decoded each time. */
const DEFAULT_MAX_BYTES = 160;

export class StringInterner {
  private readonly cache: ByteKeyedCache<string>;

  constructor(slots = DEFAULT_SLOTS, maxBytes = DEFAULT_MAX_BYTES) {
    this.cache = new ByteKeyedCache(slots, maxBytes);
  }

  /** The UTF-8 text of bytes[start, end). */
  intern(bytes: Buffer, start: number, end: number): string {
    if (start === end) return "";
    if (end - start > this.cache.maxKeyBytes) return bytes.toString("utf8", start, end);
    const hash = hashBytes(bytes, start, end);
    const known = this.cache.get(bytes, start, end, hash);
    if (known !== undefined) return known;
    const text = bytes.toString("utf8", start, end);
    this.cache.set(bytes, start, end, hash, text);
    return text;
  }
}
