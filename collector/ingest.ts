import type { AccessLogEntry, ProxyIdentity } from "../core/model/access-log.ts";
import type { SpanInput } from "./span-input.ts";

/**
 * What access-log receivers hand decoded entries to. Receivers stay thin: they decode, attach the
 * identity of the proxy that logged the entries, and hand over; resolution and aggregation happen behind.
 */
export interface AccessLogIngest {
  /**
   * Accepts a batch. Returns false when the pipeline is over its bound and the batch was NOT taken:
   * the receiver must push back on its client (gRPC RESOURCE_EXHAUSTED, HTTP 429/503, pause the file).
   * `alsMessage`: the ALS message bytes the entries were decoded from, when that is where they came from;
   * the write-ahead buffer keeps those bytes instead of serializing the entries.
   */
  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[], alsMessage?: Uint8Array): boolean;
  /**
   * Entries taken so far whose every call was aggregated, when this ingest can tell (the pipeline and what
   * wraps it): how a receiver counts `accepted` exactly when a gateway's line holds two calls.
   */
  readonly aggregatedEntries?: number;
  /**
   * Resolves once every batch taken so far would survive a crash, when this ingest keeps them durably (the
   * write-ahead buffer): a receiver that acknowledges awaits it first.
   */
  durable?(): Promise<void>;
  /**
   * The input is over (a file's history read to its end, a `meshsight ingest` file, a replay): nothing more
   * comes through it, so what it holds for records to come (calls waiting for their caller) is given up.
   */
  end?(): void;
}

/** What happened to one receiver request; receivers turn it into their protocol's answer. */
export type SpanIngestResult =
  | { outcome: "accepted"; accepted: number; rejected: number; rejectMessage: string }
  /** Nothing was taken (and the spans were counted as rejected); the client should retry later. */
  | { outcome: "overloaded"; message: string };

/**
 * What trace receivers (OTLP, Zipkin) hand decoded spans to (collector/span-input.ts is their shape); the
 * receivers know nothing of what happens behind (collector/traces: validation, mapping, span metrics, tail
 * sampling). Partial success: bad spans are counted and refused, the rest of the request is taken.
 */
export interface SpanIngestPort {
  ingest(protocol: "otlp" | "zipkin", inputs: readonly SpanInput[]): SpanIngestResult;
  /**
   * Resolves once every span taken so far would survive a crash, when spans are kept durably (the
   * write-ahead buffer): a receiver awaits it before acknowledging.
   */
  durable?(): Promise<void>;
}
