import { z } from "zod";
import { enumField, integerField, shareField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";

/** Trace processing settings: span metrics and tail sampling (docs/traces.md); the span receivers own theirs. */
export const tracesSection = defineSection(
  z.strictObject({
    spanMetrics: enumField(["all", "non-mesh", "off"], "non-mesh"),
    decisionWaitSeconds: integerField(0, 600).default(10),
    slowTraceMs: integerField(1, 3_600_000).default(1_000),
    sampleRate: shareField(0.1),
    maxBufferedSpans: integerField(1, 10_000_000).default(200_000),
  }),
  [
    { key: "spanMetrics", env: "MESHSIGHT_SPAN_METRICS", flag: "span-metrics", description: "Which spans feed service metrics: all, non-mesh (skip services measured by mesh sidecars) or off." },
    { key: "decisionWaitSeconds", env: "MESHSIGHT_TRACE_DECISION_WAIT_SECONDS", flag: "trace-decision-wait-seconds", description: "How long a trace waits for its spans before tail sampling decides." },
    { key: "slowTraceMs", env: "MESHSIGHT_SLOW_TRACE_MS", flag: "slow-trace-ms", description: "Traces with a span at least this slow are always kept." },
    { key: "sampleRate", env: "MESHSIGHT_TRACE_SAMPLE_RATE", flag: "trace-sample-rate", description: "Share (0..1) of traces without errors or slow spans that are kept." },
    { key: "maxBufferedSpans", env: "MESHSIGHT_TRACE_MAX_BUFFERED_SPANS", flag: "trace-max-buffered-spans", description: "Spans held while waiting for sampling decisions; beyond it the oldest traces are decided early." },
  ],
);

export type TracesConfig = z.output<(typeof tracesSection)["schema"]>;
