import type { Span } from "../../core/model/span.ts";
import { ZIPKIN_ANNOTATIONS, ZIPKIN_ORIGINAL_PARENT, ZIPKIN_SHARED } from "../receivers/zipkin/zipkin-span.ts";
import { parseAnnotations } from "./trace-zipkin-format.ts";

/**
 * Stored spans in the JSON model of Jaeger's query API and UI, which Grafana's Jaeger data source parses
 * (https://github.com/jaegertracing/jaeger/blob/v2.20.0/internal/uimodel/model.go, filled by
 * internal/uimodel/converter/v1/json/from_domain.go). Times are microseconds; `references`, `tags` and
 * `logs` are arrays, never null; `warnings` is null when there are none; spans name their process by id
 * (`p1`, `p2`, ... in order of first use) and `processes` maps those ids to a service and its tags.
 */

export interface JaegerKeyValue {
  key: string;
  type: "string" | "bool" | "int64" | "float64" | "binary";
  value: string | boolean | number;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: "CHILD_OF" | "FOLLOWS_FROM"; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  warnings: string[] | null;
}

/** Bookkeeping of the Zipkin round trip, not tags anyone posted. */
const INTERNAL_ATTRIBUTES = new Set([ZIPKIN_SHARED, ZIPKIN_ORIGINAL_PARENT, ZIPKIN_ANNOTATIONS]);

/**
 * Jaeger prints a trace id as 16 hex digits when its high 64 bits are zero, else 32
 * (https://github.com/jaegertracing/jaeger-idl/blob/main/model/v1/ids.go); ids are stored as 32.
 */
export function jaegerTraceId(storedTraceId: string): string {
  return storedTraceId.length === 32 && storedTraceId.startsWith("0000000000000000") ? storedTraceId.slice(16) : storedTraceId;
}

const text = (key: string, value: string): JaegerKeyValue => ({ key, type: "string", value });

/**
 * Attributes are stored as text, so they are `string` tags. The span kind and an error status become the
 * tags Jaeger's OTLP translation gives them (`span.kind`, `otel.status_code`, `otel.status_description`,
 * and `error` as a bool, which Jaeger's UI and Grafana mark failed spans by).
 */
function tagsOf(span: Span): JaegerKeyValue[] {
  const tags: JaegerKeyValue[] = [];
  for (const [key, value] of Object.entries(span.attributes)) if (!INTERNAL_ATTRIBUTES.has(key)) tags.push(text(key, value));
  tags.push(text("span.kind", span.kind));
  if (span.isError) {
    tags.push(text("otel.status_code", "ERROR"));
    if (span.statusMessage !== "") tags.push(text("otel.status_description", span.statusMessage));
    if (span.attributes.error === undefined) tags.push({ key: "error", type: "bool", value: true });
  }
  return tags;
}

/** A trace's spans (as getTrace returns them) as one Jaeger trace; spans must not be empty. */
export function toJaegerTrace(spans: readonly Span[]): JaegerTrace {
  const processIds = new Map<string, string>();
  const processes: JaegerTrace["processes"] = {};
  const traceID = jaegerTraceId(spans[0]?.traceId ?? "");
  const jaegerSpans = spans.map((span): JaegerSpan => {
    const resourceTags = Object.entries(span.resourceAttributes).filter(([key]) => key !== "service.name");
    const processKey = JSON.stringify([span.service, resourceTags]);
    let processID = processIds.get(processKey);
    if (processID === undefined) {
      processID = `p${processIds.size + 1}`;
      processIds.set(processKey, processID);
      processes[processID] = { serviceName: span.service, tags: resourceTags.map(([key, value]) => text(key, value)) };
    }
    return {
      traceID,
      spanID: span.spanId,
      operationName: span.name,
      references: span.parentSpanId === "" ? [] : [{ refType: "CHILD_OF", traceID, spanID: span.parentSpanId }],
      startTime: Number(span.startTimeUnixNano / 1000n),
      duration: Math.round(span.durationNs / 1000),
      tags: tagsOf(span),
      logs: parseAnnotations(span.attributes[ZIPKIN_ANNOTATIONS]).map(({ timestamp, value }) => ({ timestamp, fields: [text("event", value)] })),
      processID,
      warnings: null,
    };
  });
  return { traceID, spans: jaegerSpans, processes, warnings: null };
}
