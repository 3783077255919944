import type { Span } from "../../core/model/span.ts";
import { ZIPKIN_ANNOTATIONS, ZIPKIN_ORIGINAL_PARENT, ZIPKIN_SHARED, type ZipkinSpan } from "../receivers/zipkin/zipkin-span.ts";

/** Attributes that are bookkeeping for the round trip, not tags the user posted. */
const INTERNAL_ATTRIBUTES = new Set([ZIPKIN_SHARED, ZIPKIN_ORIGINAL_PARENT, ZIPKIN_ANNOTATIONS, "network.peer.address", "network.peer.port"]);

const KINDS: Record<Span["kind"], string | undefined> = { server: "SERVER", client: "CLIENT", producer: "PRODUCER", consumer: "CONSUMER", internal: undefined };

/**
 * A stored span in Zipkin v2 JSON, as Grafana's Zipkin data source reads it. Spans that came from Zipkin
 * come back as posted (shared server spans get their shared id back); OTLP spans map the way the
 * OpenTelemetry Collector's Zipkin exporter does (kind, service name, tags, `error` for status ERROR).
 */
export function toZipkinSpan(span: Span): ZipkinSpan {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(span.attributes)) if (!INTERNAL_ATTRIBUTES.has(key)) tags[key] = value;
  if (span.isError && tags.error === undefined) tags.error = span.statusMessage || "true";
  const isShared = span.attributes[ZIPKIN_SHARED] === "true";
  const id = isShared ? span.parentSpanId : span.spanId;
  const parentId = isShared ? (span.attributes[ZIPKIN_ORIGINAL_PARENT] ?? "") : span.parentSpanId;
  const out: ZipkinSpan = {
    traceId: span.traceId,
    id,
    name: span.name,
    timestamp: Number(span.startTimeUnixNano / 1000n),
    duration: Math.max(1, Math.round(span.durationNs / 1000)),
    localEndpoint: { serviceName: span.service },
    tags,
  };
  if (parentId !== "") out.parentId = parentId;
  const kind = KINDS[span.kind];
  if (kind !== undefined) out.kind = kind;
  if (isShared) out.shared = true;
  const remote = remoteEndpointOf(span);
  if (remote !== undefined) out.remoteEndpoint = remote;
  const annotations = parseAnnotations(span.attributes[ZIPKIN_ANNOTATIONS]);
  if (annotations.length > 0) out.annotations = annotations;
  return out;
}

function remoteEndpointOf(span: Span): ZipkinSpan["remoteEndpoint"] {
  const address = span.attributes["network.peer.address"];
  const port = Number(span.attributes["network.peer.port"]);
  if (span.peerService === "" && address === undefined) return undefined;
  return {
    ...(span.peerService === "" ? {} : { serviceName: span.peerService }),
    ...(address === undefined ? {} : address.includes(":") ? { ipv6: address } : { ipv4: address }),
    ...(Number.isInteger(port) && port > 0 ? { port } : {}),
  };
}

/** Zipkin annotations kept with a span (also Jaeger's span logs); [] when none or unreadable. */
export function parseAnnotations(text: string | undefined): { timestamp: number; value: string }[] {
  if (text === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.map((item: { timestamp?: unknown; value?: unknown }) => ({ timestamp: Number(item.timestamp ?? 0), value: typeof item.value === "string" ? item.value : "" }));
  } catch {
    return [];
  }
}
