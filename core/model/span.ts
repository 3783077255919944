/** A span in the project's trace store, mapped to the same dimensions as access logs. */
export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  durationNs: number;
  service: string;
  instance: string;
  endpoint: string;
  /** For client and producer spans, the called service ("" when unknown). */
  peerService: string;
  isError: boolean;
  statusMessage: string;
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
}
