import { z } from "zod";
import { integerField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";

/** Bounds of one span request, shared by the OTLP and Zipkin receivers: `receivers.spanRequests`. */
export const spanRequestLimitSettings = defineSection(
  z.strictObject({
    maxSpans: integerField(1, 1_000_000).default(50_000),
    maxBytes: integerField(1024, 1_073_741_824).default(64 * 1024 * 1024),
  }),
  [
    { key: "maxSpans", env: "MESHSIGHT_TRACE_MAX_SPANS_PER_REQUEST", flag: "trace-max-spans-per-request", formerly: "traces.maxSpansPerRequest", description: "Spans one OTLP or Zipkin request may carry." },
    { key: "maxBytes", env: "MESHSIGHT_TRACE_MAX_REQUEST_BYTES", flag: "trace-max-request-bytes", formerly: "traces.maxRequestBytes", description: "Largest OTLP or Zipkin request body, after gzip decompression." },
  ],
);

export type SpanRequestLimits = z.output<(typeof spanRequestLimitSettings)["schema"]>;
