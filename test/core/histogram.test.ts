import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bucketIndex,
  bucketUpperBoundMs,
  LAST_BUCKET,
  mergeSparse,
  newDenseHistogram,
  PERCENTILE_RELATIVE_ERROR,
  percentileMs,
  recordLatency,
  toSparse,
} from "../../core/model/histogram.ts";

test("every latency falls in the bucket whose bounds contain it", () => {
  for (const ms of [0.0015, 0.01, 0.3, 1, 7.5, 42, 999, 12_345, 600_000]) {
    const index = bucketIndex(ms);
    assert.ok(ms <= bucketUpperBoundMs(index) * (1 + 1e-9), `${ms} above bucket ${index}`);
    assert.ok(ms > bucketUpperBoundMs(index - 1) * (1 - 1e-9), `${ms} below bucket ${index}`);
  }
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(-5), 0);
  assert.equal(bucketIndex(Number.NaN), 0);
  assert.equal(bucketIndex(1e12), LAST_BUCKET);
});

test("whole milliseconds land in their bucket's bounds too, across the looked-up range and beyond it", () => {
  // Whole latencies are looked up in a table; fractions and larger values are computed: the two must agree.
  for (let ms = 1; ms <= 5000; ms++) {
    const index = bucketIndex(ms);
    assert.ok(ms <= bucketUpperBoundMs(index) * (1 + 1e-9) && ms > bucketUpperBoundMs(index - 1) * (1 - 1e-9), `${ms} ms in bucket ${index}`);
    assert.ok(bucketIndex(ms - 0.5) <= index && index <= bucketIndex(ms + 0.5), `${ms} ms between its neighbours' buckets`);
  }
  assert.equal(bucketIndex(-0), 0);
});

test("percentiles stay within the documented relative error", () => {
  const samples = Array.from({ length: 10_000 }, (_, i) => 0.5 + ((i * 7919) % 10_000) / 7);
  const histogram = newDenseHistogram();
  for (const ms of samples) recordLatency(histogram, ms);
  const sorted = [...samples].sort((a, b) => a - b);
  for (const q of [0.5, 0.75, 0.9, 0.95, 0.99]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
    const estimate = percentileMs(toSparse(histogram), q);
    assert.ok(Math.abs(estimate - exact) / exact <= PERCENTILE_RELATIVE_ERROR + 1e-9, `q=${q} exact=${exact} estimate=${estimate}`);
  }
});

test("merging adds bucket counts and is order-independent", () => {
  const a = newDenseHistogram();
  const b = newDenseHistogram();
  recordLatency(a, 3);
  recordLatency(a, 300);
  recordLatency(b, 3);
  const ab = mergeSparse(toSparse(a), toSparse(b));
  assert.deepEqual(ab, mergeSparse(toSparse(b), toSparse(a)));
  assert.deepEqual(ab.counts, [2, 1]);
  assert.equal(percentileMs({ buckets: [], counts: [] }, 0.99), 0);
});
