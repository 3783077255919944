/** Zipkin v2 request bodies (JSON list or proto3 ListOfSpans) -> ZipkinSpan[]. */
import protobuf from "protobufjs";
import { ZipkinDecodeError, type ZipkinEndpoint, type ZipkinSpan } from "./zipkin-span.ts";

/** zipkin2/zipkin-api `zipkin.proto` (proto3), the messages the ingest endpoint accepts. */
const ZIPKIN_PROTO = `
syntax = "proto3";
package zipkin.proto3;
message Span {
  bytes trace_id = 1; bytes parent_id = 2; bytes id = 3;
  enum Kind { SPAN_KIND_UNSPECIFIED = 0; CLIENT = 1; SERVER = 2; PRODUCER = 3; CONSUMER = 4; }
  Kind kind = 4; string name = 5; fixed64 timestamp = 6; uint64 duration = 7;
  Endpoint local_endpoint = 8; Endpoint remote_endpoint = 9;
  repeated Annotation annotations = 10; map<string, string> tags = 11; bool debug = 12; bool shared = 13;
}
message Endpoint { string service_name = 1; bytes ipv4 = 2; bytes ipv6 = 3; int32 port = 4; }
message Annotation { fixed64 timestamp = 1; string value = 2; }
message ListOfSpans { repeated Span spans = 1; }
`;

let listOfSpans: protobuf.Type | undefined;

function listType(): protobuf.Type {
  listOfSpans ??= protobuf.parse(ZIPKIN_PROTO, { keepCase: false }).root.lookupType("zipkin.proto3.ListOfSpans");
  return listOfSpans;
}

export function decodeZipkinJson(text: string, maxSpans: number): ZipkinSpan[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ZipkinDecodeError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ZipkinDecodeError("expected a JSON array of Zipkin v2 spans");
  if (parsed.length > maxSpans) throw new ZipkinDecodeError(`request carries ${parsed.length} spans, more than ${maxSpans}; split it into smaller batches`);
  return parsed as ZipkinSpan[];
}

interface ProtoEndpoint {
  serviceName?: string;
  ipv4?: Uint8Array;
  ipv6?: Uint8Array;
  port?: number;
}
interface ProtoSpan {
  traceId?: Uint8Array;
  parentId?: Uint8Array;
  id?: Uint8Array;
  kind?: number;
  name?: string;
  timestamp?: { toNumber(): number } | number;
  duration?: { toNumber(): number } | number;
  localEndpoint?: ProtoEndpoint;
  remoteEndpoint?: ProtoEndpoint;
  annotations?: { timestamp?: { toNumber(): number } | number; value?: string }[];
  tags?: Record<string, string>;
  shared?: boolean;
}

const PROTO_KINDS = ["", "CLIENT", "SERVER", "PRODUCER", "CONSUMER"];

export function decodeZipkinProto(bytes: Uint8Array, maxSpans: number): ZipkinSpan[] {
  let decoded: { spans?: ProtoSpan[] };
  try {
    decoded = listType().decode(bytes) as { spans?: ProtoSpan[] };
  } catch (error) {
    throw new ZipkinDecodeError(`malformed Zipkin proto3 ListOfSpans: ${(error as Error).message}`);
  }
  const spans = decoded.spans ?? [];
  if (spans.length > maxSpans) throw new ZipkinDecodeError(`request carries ${spans.length} spans, more than ${maxSpans}; split it into smaller batches`);
  return spans.map((span) => ({
    traceId: hex(span.traceId),
    parentId: hex(span.parentId),
    id: hex(span.id),
    kind: PROTO_KINDS[span.kind ?? 0] ?? "",
    name: span.name ?? "",
    timestamp: num(span.timestamp),
    duration: num(span.duration),
    localEndpoint: endpoint(span.localEndpoint),
    remoteEndpoint: endpoint(span.remoteEndpoint),
    annotations: (span.annotations ?? []).map((annotation) => ({ timestamp: num(annotation.timestamp), value: annotation.value ?? "" })),
    tags: { ...span.tags },
    shared: span.shared === true,
  }));
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex") : "";
}

function num(value: { toNumber(): number } | number | undefined): number {
  if (value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}

function endpoint(value: ProtoEndpoint | undefined): ZipkinEndpoint | undefined {
  if (!value) return undefined;
  const out: ZipkinEndpoint = {};
  if (value.serviceName) out.serviceName = value.serviceName;
  if (value.ipv4 && value.ipv4.length === 4) out.ipv4 = Array.from(value.ipv4).join(".");
  if (value.ipv6 && value.ipv6.length === 16) out.ipv6 = Buffer.from(value.ipv6).toString("hex").replace(/(.{4})(?!$)/g, "$1:");
  if (value.port) out.port = value.port;
  return out;
}
