/**
 * OTLP/JSON ExportTraceServiceRequest -> SpanInput[] (protobuf bytes go through otlp-wire-decoder.ts,
 * which must agree with this file). Ids are hex strings, 64-bit integers decimal strings.
 * Spec: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
import type { SpanKind } from "../../../core/model/span.ts";
import { MAX_NAME_LENGTH, putAttribute, type SpanInput } from "../../span-input.ts";

/** The input is not an OTLP request at all: the whole request is refused (permanent error). */
export class OtlpDecodeError extends Error {
  override readonly name = "OtlpDecodeError";
}

type IntLike = number | string | null | undefined;
type IdLike = string | null | undefined;

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: IntLike;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
}
interface KeyValue {
  key?: string;
  value?: AnyValue | null;
}
interface OtlpSpan {
  traceId?: IdLike;
  spanId?: IdLike;
  parentSpanId?: IdLike;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: IntLike;
  endTimeUnixNano?: IntLike;
  attributes?: KeyValue[] | null;
  status?: { code?: number | string; message?: string } | null;
}
interface ResourceSpans {
  resource?: { attributes?: KeyValue[] | null } | null;
  scopeSpans?: { spans?: OtlpSpan[] | null }[] | null;
}
interface ExportRequest {
  resourceSpans?: ResourceSpans[] | null;
}

const KINDS: readonly SpanKind[] = ["internal", "internal", "server", "client", "producer", "consumer"];
const KIND_NAMES: Record<string, SpanKind> = {
  SPAN_KIND_UNSPECIFIED: "internal",
  SPAN_KIND_INTERNAL: "internal",
  SPAN_KIND_SERVER: "server",
  SPAN_KIND_CLIENT: "client",
  SPAN_KIND_PRODUCER: "producer",
  SPAN_KIND_CONSUMER: "consumer",
};
const STATUS_CODE_ERROR = 2;

export function decodeOtlpJson(text: string, maxSpans: number): SpanInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OtlpDecodeError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new OtlpDecodeError("expected an ExportTraceServiceRequest JSON object");
  const resourceSpans = (parsed as ExportRequest).resourceSpans;
  if (resourceSpans !== undefined && resourceSpans !== null && !Array.isArray(resourceSpans)) throw new OtlpDecodeError("resourceSpans must be an array");
  try {
    return spansOf(parsed, maxSpans);
  } catch (error) {
    if (error instanceof OtlpDecodeError) throw error;
    // A field of the wrong JSON type surfaces as a TypeError somewhere below: it is the client's mistake.
    throw new OtlpDecodeError(`malformed OTLP/JSON: ${(error as Error).message}`);
  }
}

function spansOf(request: ExportRequest, maxSpans: number): SpanInput[] {
  const out: SpanInput[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resourceAttributes = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        if (out.length >= maxSpans) throw new OtlpDecodeError(`request carries more than ${maxSpans} spans; split it into smaller batches`);
        out.push(spanInputOf(span, resourceAttributes));
      }
    }
  }
  return out;
}

function spanInputOf(span: OtlpSpan, resourceAttributes: Record<string, string>): SpanInput {
  const start = toBigInt(span.startTimeUnixNano);
  const end = toBigInt(span.endTimeUnixNano);
  const status = span.status;
  return {
    traceId: idToHex(span.traceId, 16),
    spanId: idToHex(span.spanId, 8),
    parentSpanId: idToHex(span.parentSpanId, 8),
    name: (span.name ?? "").slice(0, MAX_NAME_LENGTH),
    kind: kindOf(span.kind),
    startTimeUnixNano: start,
    durationNs: end >= start ? Number(end - start) : -1,
    hasErrorStatus: status?.code === STATUS_CODE_ERROR || status?.code === "STATUS_CODE_ERROR",
    statusMessage: status?.message ?? "",
    attributes: attributesOf(span.attributes),
    resourceAttributes,
  };
}

function kindOf(kind: number | string | undefined): SpanKind {
  if (typeof kind === "number") return KINDS[kind] ?? "internal";
  return (kind !== undefined ? KIND_NAMES[kind] : undefined) ?? "internal";
}

function attributesOf(list: KeyValue[] | null | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (!list) return attributes;
  let count = 0;
  for (const { key, value } of list) {
    if (typeof key !== "string" || key === "") continue;
    if (!putAttribute(attributes, key, anyValueToString(value, 0), count)) break;
    count++;
  }
  return attributes;
}

/** Flattens an AnyValue to text; arrays and maps become JSON so they stay searchable as one value. */
function anyValueToString(value: AnyValue | null | undefined, depth: number): string {
  if (!value || depth > 8) return "";
  if (Object.hasOwn(value, "stringValue")) return String(value.stringValue);
  if (Object.hasOwn(value, "intValue")) return toBigInt(value.intValue).toString();
  if (Object.hasOwn(value, "boolValue")) return String(value.boolValue);
  if (Object.hasOwn(value, "doubleValue")) return String(value.doubleValue);
  if (Object.hasOwn(value, "bytesValue")) return String(value.bytesValue);
  if (Object.hasOwn(value, "arrayValue")) return JSON.stringify((value.arrayValue?.values ?? []).map((item) => anyValueToString(item, depth + 1)));
  if (Object.hasOwn(value, "kvlistValue")) {
    const entries = (value.kvlistValue?.values ?? []).map((entry) => [entry.key ?? "", anyValueToString(entry.value, depth + 1)]);
    return JSON.stringify(Object.fromEntries(entries));
  }
  return "";
}

/** 64-bit times: OTLP/JSON sends decimal strings (lenient clients send numbers). */
function toBigInt(value: IntLike): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === "number") return Number.isFinite(value) ? BigInt(Math.trunc(value)) : 0n;
  if (typeof value === "string") return /^-?\d{1,20}$/.test(value) ? BigInt(value) : 0n;
  return 0n;
}

/** Ids: hex in OTLP/JSON (some older exporters sent base64: accepted when unambiguous). */
function idToHex(id: IdLike, byteLength: number): string {
  if (typeof id !== "string" || id.length === 0) return "";
  if (id.length === byteLength * 2) return id.toLowerCase();
  const fromBase64 = Buffer.from(id, "base64");
  return fromBase64.length === byteLength ? fromBase64.toString("hex") : id.toLowerCase();
}
