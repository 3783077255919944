/**
 * Zipkin v2 spans (https://zipkin.io/zipkin-api/#/default/post_spans) <-> the collector's SpanInput.
 * JSON and proto3 decode to the same ZipkinSpan shape first. Ids are hex, times are epoch microseconds.
 */
import type { SpanKind } from "../../../core/model/span.ts";
import { MAX_NAME_LENGTH, normalizeTraceId, putAttribute, type SpanInput } from "../../span-input.ts";

export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface ZipkinSpan {
  traceId?: string;
  parentId?: string;
  id?: string;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  annotations?: { timestamp?: number; value?: string }[];
  tags?: Record<string, unknown>;
  debug?: boolean;
  shared?: boolean;
}

/** The input is not a Zipkin span list: the whole request is refused. */
export class ZipkinDecodeError extends Error {
  override readonly name = "ZipkinDecodeError";
}

/**
 * Attributes that keep what Zipkin's model has and OTLP's does not, so the Zipkin query API returns spans
 * as they were posted.
 */
export const ZIPKIN_SHARED = "zipkin.shared";
export const ZIPKIN_ORIGINAL_PARENT = "zipkin.parent_id";
export const ZIPKIN_ANNOTATIONS = "zipkin.annotations";
export const ZIPKIN_REMOTE_SERVICE = "peer.service";

const KINDS: Record<string, SpanKind> = { CLIENT: "client", SERVER: "server", PRODUCER: "producer", CONSUMER: "consumer" };

/**
 * A span id for the server half of a shared span. Zipkin's join model lets client and server report the
 * same span id (Brave does by default); the store keeps one span per id, so the server half gets a derived
 * id, with the client span as its parent (which it is, in OTLP's model). The Zipkin query API undoes it.
 */
export function sharedServerSpanId(spanId: string): string {
  const value = BigInt(`0x${spanId}`) ^ 0x5a5a_5a5a_5a5a_5a5an;
  return value.toString(16).padStart(16, "0");
}

export function toSpanInputs(spans: readonly ZipkinSpan[]): SpanInput[] {
  // Zipkin repeats the local endpoint on every span; one resource object per distinct service is enough.
  const resources = new Map<string, Record<string, string>>();
  const out: SpanInput[] = [];
  for (const span of spans) {
    if (typeof span !== "object" || span === null) throw new ZipkinDecodeError("every element of the span list must be an object");
    const local = span.localEndpoint ?? {};
    const resourceKey = `${local.serviceName ?? ""}\u0000${local.ipv4 ?? local.ipv6 ?? ""}`;
    let resource = resources.get(resourceKey);
    if (resource === undefined) {
      resource = {};
      if (local.serviceName) resource["service.name"] = String(local.serviceName);
      if (local.ipv4 || local.ipv6) resource["host.name"] = String(local.ipv4 ?? local.ipv6);
      resources.set(resourceKey, resource);
    }
    out.push(toSpanInput(span, resource));
  }
  return out;
}

function toSpanInput(span: ZipkinSpan, resourceAttributes: Record<string, string>): SpanInput {
  const attributes: Record<string, string> = {};
  let count = 0;
  for (const [key, value] of Object.entries(span.tags ?? {})) {
    if (!putAttribute(attributes, key, typeof value === "string" ? value : JSON.stringify(value), count)) break;
    count++;
  }
  const remote = span.remoteEndpoint;
  if (remote?.serviceName) attributes[ZIPKIN_REMOTE_SERVICE] = String(remote.serviceName);
  const remoteIp = remote?.ipv4 ?? remote?.ipv6;
  if (remoteIp) attributes["network.peer.address"] = String(remoteIp);
  if (remote?.port) attributes["network.peer.port"] = String(remote.port);
  if (span.annotations && span.annotations.length > 0) attributes[ZIPKIN_ANNOTATIONS] = JSON.stringify(span.annotations.slice(0, 64));
  const kind = KINDS[String(span.kind ?? "").toUpperCase()] ?? "internal";
  let spanId = hexId(span.id);
  let parentSpanId = hexId(span.parentId);
  if (span.shared === true && kind === "server" && spanId !== "") {
    attributes[ZIPKIN_SHARED] = "true";
    if (parentSpanId !== "") attributes[ZIPKIN_ORIGINAL_PARENT] = parentSpanId;
    parentSpanId = spanId;
    spanId = /^[0-9a-f]{16}$/.test(spanId) ? sharedServerSpanId(spanId) : spanId;
  }
  const errorTag = attributes.error;
  const timestampUs = Number(span.timestamp ?? 0);
  return {
    traceId: normalizeTraceId(hexId(span.traceId)),
    spanId,
    parentSpanId,
    name: String(span.name ?? "").slice(0, MAX_NAME_LENGTH),
    kind,
    startTimeUnixNano: Number.isSafeInteger(timestampUs) && timestampUs > 0 ? BigInt(timestampUs) * 1000n : 0n,
    durationNs: Math.max(0, Number(span.duration ?? 0)) * 1000,
    hasErrorStatus: errorTag !== undefined,
    statusMessage: errorTag ?? "",
    attributes,
    resourceAttributes,
  };
}

/** Zipkin ids are lower-hex; 64-bit ids may come without leading zeros. */
function hexId(id: unknown): string {
  if (typeof id !== "string" || id === "") return "";
  const lower = id.toLowerCase();
  return lower.length < 16 ? lower.padStart(16, "0") : lower;
}
