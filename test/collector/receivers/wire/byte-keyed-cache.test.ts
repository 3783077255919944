import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteKeyedCache, hashBytes } from "../../../../collector/receivers/wire/byte-keyed-cache.ts";
import { StringInterner } from "../../../../collector/receivers/wire/string-interner.ts";

/** `text` at `offset` inside a larger buffer, as fields sit inside a message. */
function embedded(text: string, offset = 7): { bytes: Buffer; start: number; end: number } {
  const body = Buffer.from(text);
  const bytes = Buffer.concat([Buffer.alloc(offset, 0xee), body, Buffer.alloc(5, 0xdd)]);
  return { bytes, start: offset, end: offset + body.length };
}

test("hashBytes depends on the bytes and their length only, not on where they sit", () => {
  const a = embedded("outbound|9080||reviews.default.svc.cluster.local", 3);
  const b = embedded("outbound|9080||reviews.default.svc.cluster.local", 11);
  assert.equal(hashBytes(a.bytes, a.start, a.end), hashBytes(b.bytes, b.start, b.end));
  const c = embedded("outbound|9080||reviews.default.svc.cluster.locaL", 3);
  assert.notEqual(hashBytes(a.bytes, a.start, a.end), hashBytes(c.bytes, c.start, c.end));
  assert.notEqual(hashBytes(Buffer.from([0, 0]), 0, 1), hashBytes(Buffer.from([0, 0]), 0, 2));
});

test("a cached value comes back only for the very same bytes, wherever they sit", () => {
  const cache = new ByteKeyedCache<string>(64, 128);
  const key = embedded("10.44.1.23", 4);
  cache.set(key.bytes, key.start, key.end, hashBytes(key.bytes, key.start, key.end), "first");
  const same = embedded("10.44.1.23", 20);
  assert.equal(cache.get(same.bytes, same.start, same.end, hashBytes(same.bytes, same.start, same.end)), "first");
  const other = embedded("10.44.1.24", 4);
  assert.equal(cache.get(other.bytes, other.start, other.end, hashBytes(other.bytes, other.start, other.end)), undefined);
  // A colliding hash must not be trusted: the bytes are compared in full.
  assert.equal(cache.get(other.bytes, other.start, other.end, hashBytes(key.bytes, key.start, key.end)), undefined);
});

test("the cache keeps its own copy of the key: reusing the message buffer does not corrupt it", () => {
  const cache = new ByteKeyedCache<string>(8, 64);
  const key = embedded("details:9080");
  const hash = hashBytes(key.bytes, key.start, key.end);
  cache.set(key.bytes, key.start, key.end, hash, "details");
  const again = Buffer.from(key.bytes);
  key.bytes.fill(0);
  assert.equal(cache.get(again, key.start, key.end, hash), "details");
  assert.equal(cache.get(key.bytes, key.start, key.end, hash), undefined);
});

test("long keys (compared natively) hit and miss like short ones", () => {
  const cache = new ByteKeyedCache<number>(16, 4096);
  const long = embedded("x".repeat(300) + "pod-a");
  const hash = hashBytes(long.bytes, long.start, long.end);
  cache.set(long.bytes, long.start, long.end, hash, 1);
  assert.equal(cache.get(long.bytes, long.start, long.end, hash), 1);
  const near = embedded("x".repeat(300) + "pod-b");
  assert.equal(cache.get(near.bytes, near.start, near.end, hash), undefined);
});

test("keys longer than maxKeyBytes are never held", () => {
  const cache = new ByteKeyedCache<string>(8, 4);
  const key = embedded("toolong");
  const hash = hashBytes(key.bytes, key.start, key.end);
  cache.set(key.bytes, key.start, key.end, hash, "x");
  assert.equal(cache.get(key.bytes, key.start, key.end, hash), undefined);
});

test("the cache is bounded: a flood of distinct keys evicts, and a set keeps its most recently used entry", () => {
  const cache = new ByteKeyedCache<number>(8, 16);
  const keyOf = (n: number): Buffer => Buffer.from(`key-${n}`);
  const hashOf = (key: Buffer): number => hashBytes(key, 0, key.length);
  for (let n = 0; n < 10_000; n++) cache.set(keyOf(n), 0, keyOf(n).length, hashOf(keyOf(n)), n);
  let held = 0;
  for (let n = 0; n < 10_000; n++) if (cache.get(keyOf(n), 0, keyOf(n).length, hashOf(keyOf(n))) === n) held++;
  assert.ok(held <= 8, `at most 8 entries held, found ${held}`);
  assert.ok(held > 0);

  // Two ways per set: a key used between insertions survives the next insertion into its set.
  const small = new ByteKeyedCache<string>(2, 16);
  const [a, b, c] = [Buffer.from("a"), Buffer.from("b"), Buffer.from("c")];
  small.set(a, 0, 1, 1, "a");
  small.set(b, 0, 1, 1, "b");
  assert.equal(small.get(a, 0, 1, 1), "a");
  small.set(c, 0, 1, 1, "c");
  assert.equal(small.get(a, 0, 1, 1), "a");
  assert.equal(small.get(b, 0, 1, 1), undefined);
  assert.equal(small.get(c, 0, 1, 1), "c");
});

test("refuses a size it cannot honour", () => {
  assert.throws(() => new ByteKeyedCache(1, 16), RangeError);
  assert.throws(() => new ByteKeyedCache(16, 0), RangeError);
});

test("the interner decodes UTF-8 exactly and hands the same string object back for the same bytes", () => {
  const interner = new StringInterner(64, 64);
  for (const text of ["reviews:9080", "/ünï/cödé", "✓ grpc-go/1.62", "", "a"]) {
    const first = embedded(text, 3);
    const second = embedded(text, 9);
    const decoded = interner.intern(first.bytes, first.start, first.end);
    assert.equal(decoded, text);
    assert.equal(interner.intern(second.bytes, second.start, second.end), decoded);
  }
  // Invalid UTF-8 decodes as Buffer#toString does, replacement characters included.
  const invalid = Buffer.from([0x61, 0xe2, 0x28, 0xa1, 0x62]);
  assert.equal(interner.intern(invalid, 0, invalid.length), invalid.toString("utf8"));
  // Past maxBytes the text is still right, just not held.
  const long = embedded("/" + "segment/".repeat(20));
  assert.equal(interner.intern(long.bytes, long.start, long.end), "/" + "segment/".repeat(20));
});
