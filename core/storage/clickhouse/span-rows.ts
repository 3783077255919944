import type { ProbeResult, ProbeStatus } from "../../model/probe.ts";
import type { Span, SpanKind } from "../../model/span.ts";
import { count, fail, nonNegative, text, timeMs } from "./rows.ts";

/** Spans and probe results to JSONEachRow rows, checked first like the other rows (see rows.ts). */

const SPAN_KINDS: ReadonlySet<SpanKind> = new Set(["internal", "server", "client", "producer", "consumer"]);
const PROBE_STATUSES: ReadonlySet<ProbeStatus> = new Set(["success", "failure", "timeout", "error"]);
const NS_PER_SECOND = 1_000_000_000n;
/** DateTime is a UInt32 of seconds: a span must end before it runs out (2106). */
const MAX_END_NS = 4_294_967_295n * NS_PER_SECOND;

export interface SpanRow {
  time: number;
  /** UInt64 as text: JSON numbers lose precision past 2^53 and ns times are far past it. */
  start_time_ns: string;
  duration_ns: number;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  service: string;
  instance: string;
  endpoint: string;
  peer_service: string;
  is_error: number;
  status_message: string;
  attr_keys: string[];
  attr_values: string[];
  resource_attr_keys: string[];
  resource_attr_values: string[];
}

/** A record as parallel key and value arrays, every value checked. */
function pairs<V>(what: string, index: number, field: string, record: unknown, check: (value: unknown) => value is V): [string[], V[]] {
  if (record === null || typeof record !== "object" || Array.isArray(record)) fail(what, index, field, record);
  const keys: string[] = [];
  const values: V[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!check(value)) fail(what, index, `${field}.${key}`, value);
    keys.push(key);
    values.push(value);
  }
  return [keys, values];
}

const isString = (value: unknown): value is string => typeof value === "string";
const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

export function toSpanRow(span: Span, index: number): SpanRow {
  const w = "span";
  // Both ids form the key a duplicate is recognised by; an empty one would merge unrelated spans.
  if (text(w, index, "traceId", span.traceId) === "") fail(w, index, "traceId", span.traceId);
  if (text(w, index, "spanId", span.spanId) === "") fail(w, index, "spanId", span.spanId);
  if (!SPAN_KINDS.has(span.kind)) fail(w, index, "kind", span.kind);
  const start = span.startTimeUnixNano;
  if (typeof start !== "bigint" || start < 0n) fail(w, index, "startTimeUnixNano", start);
  const durationNs = count(w, index, "durationNs", span.durationNs);
  if (start + BigInt(durationNs) > MAX_END_NS) fail(w, index, "startTimeUnixNano", start);
  if (typeof span.isError !== "boolean") fail(w, index, "isError", span.isError);
  const [attrKeys, attrValues] = pairs(w, index, "attributes", span.attributes, isString);
  const [resourceKeys, resourceValues] = pairs(w, index, "resourceAttributes", span.resourceAttributes, isString);
  return {
    time: Number(start / NS_PER_SECOND),
    start_time_ns: start.toString(),
    duration_ns: durationNs,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: text(w, index, "parentSpanId", span.parentSpanId),
    name: text(w, index, "name", span.name),
    kind: span.kind,
    service: text(w, index, "service", span.service),
    instance: text(w, index, "instance", span.instance),
    endpoint: text(w, index, "endpoint", span.endpoint),
    peer_service: text(w, index, "peerService", span.peerService),
    is_error: span.isError ? 1 : 0,
    status_message: text(w, index, "statusMessage", span.statusMessage),
    attr_keys: attrKeys,
    attr_values: attrValues,
    resource_attr_keys: resourceKeys,
    resource_attr_values: resourceValues,
  };
}

export interface ProbeResultRow {
  time: number;
  started_ms: number;
  run_id: string;
  probe: string;
  kind: string;
  target: string;
  service: string;
  status: string;
  duration_ms: number;
  phase_names: string[];
  phase_ms: number[];
  message: string;
  attempt: number;
  label_keys: string[];
  label_values: string[];
}

export function toProbeResultRow(row: ProbeResult, index: number): ProbeResultRow {
  const w = "probe result";
  const startedMs = timeMs(w, index, row.startedMs);
  if (!PROBE_STATUSES.has(row.status)) fail(w, index, "status", row.status);
  if (count(w, index, "attempt", row.attempt) > 4_294_967_295) fail(w, index, "attempt", row.attempt);
  const [phaseNames, phaseMs] = pairs(w, index, "phases", row.phases, isFiniteNumber);
  const [labelKeys, labelValues] = pairs(w, index, "labels", row.labels, isString);
  return {
    time: Math.floor(startedMs / 1000),
    started_ms: startedMs,
    run_id: text(w, index, "runId", row.runId),
    probe: text(w, index, "probe", row.probe),
    kind: text(w, index, "kind", row.kind),
    target: text(w, index, "target", row.target),
    service: text(w, index, "service", row.service),
    status: row.status,
    duration_ms: nonNegative(w, index, "durationMs", row.durationMs),
    phase_names: phaseNames,
    phase_ms: phaseMs,
    message: text(w, index, "message", row.message),
    attempt: row.attempt,
    label_keys: labelKeys,
    label_values: labelValues,
  };
}
