import type { Span } from "../../core/model/span.ts";

/**
 * What the span write-ahead buffer (collector/wal/span-write-ahead.ts) must hear to know when logged spans
 * are safe to forget: each span is held from receipt until its span metrics are in the pipeline, and a kept
 * span also until storage answered its write. Spans it did not log are ignored.
 */
export interface SpanDurability {
  hold(spans: readonly Span[]): void;
  release(spans: readonly Span[]): void;
  /** `spans`' metrics just joined the aggregator: once a drain journals them, a replay must not count them again. */
  counted(spans: readonly Span[]): void;
  /** True for a replayed span whose metrics a drain journaled before the crash: it is stored, not counted again. */
  wasCounted(span: Span): boolean;
}
