/**
 * Reads the request headers Envoy was asked to log (`HTTPRequestProperties.request_headers`, filled by
 * `additional_request_headers_to_log`):
 * - the trace id: W3C `traceparent` (`00-<trace-id>-<span-id>-<flags>`) or B3 `x-b3-traceid`;
 * - the caller's peer metadata from Istio's older metadata exchange (Istio 1.6-1.8 sidecars send it in
 *   `x-envoy-peer-metadata`, a base64 `google.protobuf.Struct`;
 *   https://github.com/istio/proxy/blob/release-1.8/extensions/metadata_exchange/plugin.cc), used only when
 *   no filter state named the caller.
 * Works on the bytes: header names are only compared, and of a traceparent only the 32 trace-id bytes
 * become a string.
 */
import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { createReader, type Reader, readBytesEnd, readSubmessageEnd, readTag, skipField, WIRE_LENGTH_DELIMITED } from "../wire/protobuf-reader.ts";
import { peerMetadataFromStruct, type PeerMemo } from "./peer-metadata.ts";
import { readStructBody } from "./struct.ts";

const MAP_KEY = (1 << 3) | WIRE_LENGTH_DELIMITED;
const MAP_VALUE = (2 << 3) | WIRE_LENGTH_DELIMITED;

const TRACEPARENT = Buffer.from("traceparent");
const B3_TRACE_ID = Buffer.from("x-b3-traceid");
const PEER_METADATA = Buffer.from("x-envoy-peer-metadata");
const TRACE_ID_LENGTH = 32;
const DASH = 0x2d;

/** Reads one `request_headers` map entry (the reader stands on its length) into the entry when it is one meshsight uses. */
export function readRequestHeader(reader: Reader, parentEnd: number, entry: AccessLogEntry, peers: PeerMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  const bytes = reader.buf as Buffer;
  let nameStart = 0;
  let nameEnd = 0;
  let valueStart = 0;
  let valueEnd = 0;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === MAP_KEY) {
      nameEnd = readBytesEnd(reader, end);
      nameStart = reader.pos;
      reader.pos = nameEnd;
    } else if (tag === MAP_VALUE) {
      valueEnd = readBytesEnd(reader, end);
      valueStart = reader.pos;
      reader.pos = valueEnd;
    } else skipField(reader, tag & 7);
  }
  if (equalsAsciiIgnoringCase(bytes, nameStart, nameEnd, TRACEPARENT)) {
    const traceId = traceparentTraceId(bytes, valueStart, valueEnd);
    if (traceId !== "") entry.traceId = traceId;
  } else if (entry.traceId === "" && equalsAsciiIgnoringCase(bytes, nameStart, nameEnd, B3_TRACE_ID)) {
    // traceparent wins when both are logged: it is the header the mesh propagates end to end today.
    entry.traceId = bytes.toString("utf8", valueStart, valueEnd);
  } else if (entry.downstreamPeer === null && equalsAsciiIgnoringCase(bytes, nameStart, nameEnd, PEER_METADATA)) {
    entry.downstreamPeer = exchangedPeer(reader, bytes, valueStart, valueEnd, peers);
  }
}

/** The peer in a metadata-exchange header value, memoized by its base64 text; throws on a malformed one. */
function exchangedPeer(reader: Reader, bytes: Buffer, start: number, end: number, peers: PeerMemo): AccessLogEntry["downstreamPeer"] {
  const resumeAt = reader.pos;
  reader.pos = start;
  const known = peers.find("struct", reader, end);
  reader.pos = resumeAt;
  if (known !== undefined) return known;
  const struct = Buffer.from(bytes.toString("latin1", start, end), "base64");
  const structReader = createReader(struct);
  return peers.remember("struct", bytes, start, end, peerMetadataFromStruct(readStructBody(structReader, struct.length)));
}

/**
 * The second dash-separated part of a traceparent when it is 32 characters long, else "". A dash byte
 * never occurs inside a multi-byte UTF-8 sequence, so splitting the bytes splits the text the same way.
 */
function traceparentTraceId(bytes: Buffer, start: number, end: number): string {
  const firstDash = indexOfDash(bytes, start, end);
  if (firstDash === end) return "";
  const partStart = firstDash + 1;
  const partEnd = indexOfDash(bytes, partStart, end);
  let isAscii = true;
  for (let index = partStart; index < partEnd; index++) if ((bytes[index] as number) >= 0x80) isAscii = false;
  // ASCII: one byte per character, so the length is known before decoding; otherwise decode and count.
  if (isAscii) return partEnd - partStart === TRACE_ID_LENGTH ? bytes.toString("latin1", partStart, partEnd) : "";
  const part = bytes.toString("utf8", partStart, partEnd);
  return part.length === TRACE_ID_LENGTH ? part : "";
}

/** The offset of the first dash in bytes[from, end), or `end` when there is none. */
function indexOfDash(bytes: Uint8Array, from: number, end: number): number {
  for (let index = from; index < end; index++) if (bytes[index] === DASH) return index;
  return end;
}

/**
 * Whether bytes[start, end) is `lowerAscii` in any letter case. Only ASCII letters can lower-case to
 * these names' letters as single characters, so this matches exactly what `toLowerCase() ===` would.
 */
function equalsAsciiIgnoringCase(bytes: Uint8Array, start: number, end: number, lowerAscii: Uint8Array): boolean {
  if (end - start !== lowerAscii.length) return false;
  for (let index = 0; index < lowerAscii.length; index++) {
    const byte = bytes[start + index] as number;
    const lower = byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
    if (lower !== lowerAscii[index]) return false;
  }
  return true;
}
