/**
 * Takes the trace id from a logged request header when Envoy was asked to log one
 * (`HTTPRequestProperties.request_headers`, filled by `additional_request_headers_to_log`): W3C
 * `traceparent` (`00-<trace-id>-<span-id>-<flags>`) or B3 `x-b3-traceid`. Works on the bytes: header
 * names are only compared, and of a traceparent only the 32 trace-id bytes become a string.
 */
import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { type Reader, readBytesEnd, readSubmessageEnd, readTag, skipField, WIRE_LENGTH_DELIMITED } from "../wire/protobuf-reader.ts";

const MAP_KEY = (1 << 3) | WIRE_LENGTH_DELIMITED;
const MAP_VALUE = (2 << 3) | WIRE_LENGTH_DELIMITED;

const TRACEPARENT = Buffer.from("traceparent");
const B3_TRACE_ID = Buffer.from("x-b3-traceid");
const TRACE_ID_LENGTH = 32;
const DASH = 0x2d;

/** Reads one `request_headers` map entry (the reader stands on its length) into `entry.traceId` when it carries one. */
export function readTraceHeader(reader: Reader, parentEnd: number, entry: AccessLogEntry): void {
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
  }
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
