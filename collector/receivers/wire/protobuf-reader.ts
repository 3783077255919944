/**
 * Small helpers over protobufjs' `Reader` for a lazy, hand-written decoder: it reads only the fields
 * meshsight uses and skips the rest, so hot paths (Envoy ALS, OTLP traces) never build the full message object
 * (docs/architecture.md, "Performance notes"). Every helper throws on malformed input; callers turn that into
 * a counted reject.
 */
import protobuf from "protobufjs/minimal.js";
import type { StringInterner } from "./string-interner.ts";

export type Reader = protobuf.Reader;

/** Protobuf wire types used below (https://protobuf.dev/programming-guides/encoding/#structure). */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;

/** Deeper nesting than this in a Struct or filter state is garbage, not Envoy: refuse it before the stack does. */
export const MAX_NESTING_DEPTH = 32;

const TWO_POW_63 = 2 ** 63;
const TWO_POW_64 = 2 ** 64;

/** Wraps bytes in a reader whose `buf` is a Node Buffer, so strings decode natively (see `readString`). */
export function createReader(bytes: Uint8Array): Reader {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return protobuf.Reader.create(buffer);
}

/** Reads a field tag; field number 0 never appears in valid protobuf and marks garbage. */
export function readTag(reader: Reader): number {
  const tag = reader.tag();
  if (tag >>> 3 === 0) throw new Error(`illegal field number 0 at offset ${reader.pos}`);
  return tag;
}

/**
 * Reads the length prefix of a sub-message and returns the offset where it ends, refusing lengths that
 * run past the enclosing buffer (a truncated or corrupt message would otherwise read its neighbour).
 */
export function readSubmessageEnd(reader: Reader, parentEnd: number): number {
  const length = reader.size();
  const end = reader.pos + length;
  if (end > parentEnd) throw new RangeError(`sub-message of ${length} bytes at offset ${reader.pos} overruns its parent (ends ${parentEnd})`);
  return end;
}

/**
 * Reads an unsigned varint of up to 64 bits as a JS number. Exact below 2^53, which covers byte counts
 * and epoch seconds; protobufjs would allocate a Long for every 64-bit field instead.
 */
export function readVarintAsNumber(reader: Reader): number {
  const buf = reader.buf;
  let pos = reader.pos;
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= reader.len) throw new RangeError(`varint runs past the end at offset ${pos}`);
    const byte = buf[pos++] as number;
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      reader.pos = pos;
      return result;
    }
    multiplier *= 128;
  }
  throw new Error(`varint longer than 10 bytes at offset ${reader.pos}`);
}

/** int64/int32 varints carry negatives as two's complement over 64 bits. */
export function readSignedVarintAsNumber(reader: Reader): number {
  const value = readVarintAsNumber(reader);
  return value >= TWO_POW_63 ? value - TWO_POW_64 : value;
}

/** Skips a field whose number or wire type this decoder does not use. */
export function skipField(reader: Reader, wireType: number): void {
  reader.skipType(wireType);
}

/** Reads a length-delimited UTF-8 string, refusing one that runs past `end`. */
export function readString(reader: Reader, end: number): string {
  const length = reader.size();
  const stop = reader.pos + length;
  if (stop > end) throw new RangeError(`string of ${length} bytes at offset ${reader.pos} overruns its message`);
  // createReader guarantees a Buffer: its native UTF-8 decoding beats a JS loop for all but tiny strings.
  const text = (reader.buf as Buffer).toString("utf8", reader.pos, stop);
  reader.pos = stop;
  return text;
}

/**
 * Reads the length of a string or bytes field and returns where the field ends, leaving the reader on its
 * first byte: for callers that compare or cache the bytes instead of decoding them.
 */
export function readBytesEnd(reader: Reader, end: number): number {
  const length = reader.size();
  const stop = reader.pos + length;
  if (stop > end) throw new RangeError(`string of ${length} bytes at offset ${reader.pos} overruns its message`);
  return stop;
}

/** Reads a length-delimited string through `strings`, so repeated values come back as the same string. */
export function readInternedString(reader: Reader, end: number, strings: StringInterner): string {
  const stop = readBytesEnd(reader, end);
  const start = reader.pos;
  reader.pos = stop;
  return strings.intern(reader.buf as Buffer, start, stop);
}

/** Whether bytes[start, end) is exactly `expected`. */
export function equalsBytes(bytes: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let index = 0; index < expected.length; index++) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

/** Whether bytes[start, end) ends with `suffix`. */
export function endsWithBytes(bytes: Uint8Array, start: number, end: number, suffix: Uint8Array): boolean {
  return end - start >= suffix.length && equalsBytes(bytes, end - suffix.length, end, suffix);
}

/** Reads a length-delimited bytes field as a view on the message buffer (no copy). */
export function readBytesView(reader: Reader, end: number): Uint8Array {
  const length = reader.size();
  const stop = reader.pos + length;
  if (stop > end) throw new RangeError(`bytes field of ${length} bytes at offset ${reader.pos} overruns its message`);
  const view = reader.buf.subarray(reader.pos, stop);
  reader.pos = stop;
  return view;
}

/**
 * Reads a `google.protobuf.Duration` or `Timestamp` (same shape: int64 seconds = 1, int32 nanos = 2)
 * as milliseconds.
 */
export function readSecondsNanosAsMs(reader: Reader, parentEnd: number): number {
  const end = readSubmessageEnd(reader, parentEnd);
  let seconds = 0;
  let nanos = 0;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ((1 << 3) | WIRE_VARINT)) seconds = readSignedVarintAsNumber(reader);
    else if (tag === ((2 << 3) | WIRE_VARINT)) nanos = readSignedVarintAsNumber(reader);
    else skipField(reader, tag & 7);
  }
  return seconds * 1000 + nanos / 1e6;
}

/** Reads a `google.protobuf.UInt32Value` / `UInt64Value` wrapper (value = 1); 0 when the wrapper is empty. */
export function readUnsignedWrapper(reader: Reader, parentEnd: number): number {
  const end = readSubmessageEnd(reader, parentEnd);
  let value = 0;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ((1 << 3) | WIRE_VARINT)) value = readVarintAsNumber(reader);
    else skipField(reader, tag & 7);
  }
  return value;
}
