/**
 * The one latency histogram layout of the whole project.
 *
 * Buckets are log-scale over microseconds with 8 buckets per power of two: bucket `i` holds latencies
 * in (2^((i-1)/8), 2^(i/8)] µs, bucket 0 everything up to 1 µs, and the last bucket everything above
 * 2^(254/8) µs (about 55 minutes). Because every writer uses the same boundaries, histograms merge by
 * adding counts bucket by bucket, in memory, in ClickHouse (sumMap) and in DuckDB alike.
 *
 * Relative error: a percentile is reported as the geometric middle of its bucket, so it is within a
 * factor 2^(1/16) of the true value: at most 4.4 % off (see `PERCENTILE_RELATIVE_ERROR`).
 */

export const BUCKETS_PER_OCTAVE = 8;
export const BUCKET_COUNT = 256;
export const LAST_BUCKET = BUCKET_COUNT - 1;
export const PERCENTILE_RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_OCTAVE)) - 1;

/** A histogram as stored and sent: only the non-empty buckets, `buckets` ascending. */
export interface SparseHistogram {
  buckets: number[];
  counts: number[];
}

/** A histogram being filled in memory: one counter per bucket. */
export type DenseHistogram = Float64Array;

function computedBucketIndex(latencyMs: number): number {
  const micros = latencyMs * 1000;
  if (!(micros > 1)) return 0; // also catches NaN and negative durations
  const index = Math.ceil(Math.log2(micros) * BUCKETS_PER_OCTAVE - 1e-9);
  return index > LAST_BUCKET ? LAST_BUCKET : index;
}

/**
 * Text access logs print whole milliseconds, and each call lands in several histograms (service, instance,
 * endpoint, relation): the buckets of whole latencies up to ~4 s are looked up rather than computed with a
 * logarithm each time. Same function, so the same bucket.
 */
const WHOLE_MS_BUCKETS = Uint8Array.from({ length: 4096 }, (_, latencyMs) => computedBucketIndex(latencyMs));

export function bucketIndex(latencyMs: number): number {
  const whole = latencyMs | 0;
  return whole === latencyMs && whole >= 0 && whole < WHOLE_MS_BUCKETS.length ? (WHOLE_MS_BUCKETS[whole] as number) : computedBucketIndex(latencyMs);
}

export function bucketUpperBoundMs(index: number): number {
  return 2 ** (index / BUCKETS_PER_OCTAVE) / 1000;
}

/** The value reported for a rank that falls in `index`: the geometric middle of the bucket. */
export function bucketRepresentativeMs(index: number): number {
  if (index === 0) return bucketUpperBoundMs(0);
  return 2 ** ((index - 0.5) / BUCKETS_PER_OCTAVE) / 1000;
}

export function newDenseHistogram(): DenseHistogram {
  return new Float64Array(BUCKET_COUNT);
}

export function recordLatency(histogram: DenseHistogram, latencyMs: number): void {
  const index = bucketIndex(latencyMs);
  histogram[index] = (histogram[index] ?? 0) + 1;
}

export function toSparse(histogram: DenseHistogram): SparseHistogram {
  const buckets: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i] ?? 0;
    if (count > 0) {
      buckets.push(i);
      counts.push(count);
    }
  }
  return { buckets, counts };
}

export function emptySparse(): SparseHistogram {
  return { buckets: [], counts: [] };
}

/** Adds `source` into `target` (dense), the merge rule every storage applies too. */
export function addSparseInto(target: DenseHistogram, source: SparseHistogram): void {
  for (let i = 0; i < source.buckets.length; i++) {
    const bucket = source.buckets[i] ?? 0;
    if (bucket < 0 || bucket > LAST_BUCKET) continue;
    target[bucket] = (target[bucket] ?? 0) + (source.counts[i] ?? 0);
  }
}

export function mergeSparse(...histograms: SparseHistogram[]): SparseHistogram {
  const dense = newDenseHistogram();
  for (const histogram of histograms) addSparseInto(dense, histogram);
  return toSparse(dense);
}

/** Ascending, unique buckets without zero counts: what toSparse produces and the merge SQL expects. */
export function isNormalizedSparse(histogram: SparseHistogram): boolean {
  for (let i = 0; i < histogram.buckets.length; i++) {
    if ((histogram.counts[i] ?? 0) === 0) return false;
    if (i > 0 && (histogram.buckets[i] ?? 0) <= (histogram.buckets[i - 1] ?? 0)) return false;
  }
  return true;
}

export function totalCount(histogram: SparseHistogram): number {
  let total = 0;
  for (const count of histogram.counts) total += count;
  return total;
}

/**
 * Nearest-rank percentile (q in [0, 1]) in milliseconds; 0 for an empty histogram.
 * Exact to the bucket, reported within PERCENTILE_RELATIVE_ERROR of the true sample.
 */
export function percentileMs(histogram: SparseHistogram, q: number): number {
  const total = totalCount(histogram);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.buckets.length; i++) {
    seen += histogram.counts[i] ?? 0;
    if (seen >= rank) return bucketRepresentativeMs(histogram.buckets[i] ?? 0);
  }
  return bucketRepresentativeMs(histogram.buckets[histogram.buckets.length - 1] ?? 0);
}
