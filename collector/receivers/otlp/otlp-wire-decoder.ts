/**
 * OTLP ExportTraceServiceRequest protobuf -> SpanInput[], read straight off the wire: only the fields
 * meshsight uses are decoded, everything else (events, links, scopes, trace state, ...) is skipped without
 * building objects. protobufjs reflection built the whole message graph first and cost about half of the
 * span path's CPU (bench/README.md, traces). Field numbers: collector/proto/opentelemetry/proto/trace/v1
 * and common/v1; the OTLP/JSON path (otlp-decoder.ts) must give the same SpanInput for the same request,
 * which test/collector/receivers/otlp/otlp-wire-decoder.test.ts checks.
 */
import type { SpanKind } from "../../../core/model/span.ts";
import { MAX_NAME_LENGTH, putAttribute, type SpanInput } from "../../span-input.ts";
import {
  createReader,
  readBytesEnd,
  readInternedString,
  readSubmessageEnd,
  readTag,
  readVarintAsNumber,
  type Reader,
  skipField,
  WIRE_FIXED64,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
} from "../wire/protobuf-reader.ts";
import { StringInterner } from "../wire/string-interner.ts";
import { OtlpDecodeError } from "./otlp-decoder.ts";

const tagOf = (field: number, wireType: number) => (field << 3) | wireType;

/** ExportTraceServiceRequest.resource_spans */
const REQUEST_RESOURCE_SPANS = tagOf(1, WIRE_LENGTH_DELIMITED);
/** ResourceSpans.resource, .scope_spans, and the pre-1.0 instrumentation_library_spans older SDKs still send. */
const RESOURCE_SPANS_RESOURCE = tagOf(1, WIRE_LENGTH_DELIMITED);
const RESOURCE_SPANS_SCOPE_SPANS = tagOf(2, WIRE_LENGTH_DELIMITED);
const RESOURCE_SPANS_LIBRARY_SPANS = tagOf(1000, WIRE_LENGTH_DELIMITED);
/** Resource.attributes */
const RESOURCE_ATTRIBUTES = tagOf(1, WIRE_LENGTH_DELIMITED);
/** ScopeSpans.spans (InstrumentationLibrarySpans.spans has the same number). */
const SCOPE_SPANS_SPANS = tagOf(2, WIRE_LENGTH_DELIMITED);
const SPAN_TRACE_ID = tagOf(1, WIRE_LENGTH_DELIMITED);
const SPAN_SPAN_ID = tagOf(2, WIRE_LENGTH_DELIMITED);
const SPAN_PARENT_SPAN_ID = tagOf(4, WIRE_LENGTH_DELIMITED);
const SPAN_NAME = tagOf(5, WIRE_LENGTH_DELIMITED);
const SPAN_KIND = tagOf(6, WIRE_VARINT);
const SPAN_START_TIME = tagOf(7, WIRE_FIXED64);
const SPAN_END_TIME = tagOf(8, WIRE_FIXED64);
const SPAN_ATTRIBUTES = tagOf(9, WIRE_LENGTH_DELIMITED);
const SPAN_STATUS = tagOf(15, WIRE_LENGTH_DELIMITED);
const STATUS_MESSAGE = tagOf(2, WIRE_LENGTH_DELIMITED);
const STATUS_CODE = tagOf(3, WIRE_VARINT);
const KEY_VALUE_KEY = tagOf(1, WIRE_LENGTH_DELIMITED);
const KEY_VALUE_VALUE = tagOf(2, WIRE_LENGTH_DELIMITED);
const ANY_STRING = tagOf(1, WIRE_LENGTH_DELIMITED);
const ANY_BOOL = tagOf(2, WIRE_VARINT);
const ANY_INT = tagOf(3, WIRE_VARINT);
const ANY_DOUBLE = tagOf(4, WIRE_FIXED64);
const ANY_ARRAY = tagOf(5, WIRE_LENGTH_DELIMITED);
const ANY_KVLIST = tagOf(6, WIRE_LENGTH_DELIMITED);
const ANY_BYTES = tagOf(7, WIRE_LENGTH_DELIMITED);
/** ArrayValue.values and KeyValueList.values */
const LIST_VALUES = tagOf(1, WIRE_LENGTH_DELIMITED);

const KINDS: readonly SpanKind[] = ["internal", "internal", "server", "client", "producer", "consumer"];
const STATUS_CODE_ERROR = 2;
/** Nested arrays and maps deeper than this are flattened to "" (as the JSON path does), not recursed into. */
const MAX_VALUE_DEPTH = 8;

/**
 * One decoder per receiver: its string interner (bounded) makes repeated attribute keys, values, span
 * names and service names come back as the same strings without a UTF-8 decode each time.
 */
export class OtlpWireDecoder {
  private readonly strings = new StringInterner();

  constructor(private readonly maxSpans: number) {}

  /** Throws OtlpDecodeError for bytes that are not an ExportTraceServiceRequest or carry too many spans. */
  decode(bytes: Uint8Array): SpanInput[] {
    const out: SpanInput[] = [];
    const reader = createReader(bytes);
    try {
      const end = reader.len;
      while (reader.pos < end) {
        const tag = readTag(reader);
        if (tag === REQUEST_RESOURCE_SPANS) this.readResourceSpans(reader, readSubmessageEnd(reader, end), out);
        else skipField(reader, tag & 7);
      }
    } catch (error) {
      if (error instanceof OtlpDecodeError) throw error;
      throw new OtlpDecodeError(`malformed ExportTraceServiceRequest protobuf: ${(error as Error).message}`);
    }
    return out;
  }

  private readResourceSpans(reader: Reader, end: number, out: SpanInput[]): void {
    // Filled in place, so spans share it whether the resource comes before or after them on the wire.
    const resourceAttributes: Record<string, string> = {};
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === RESOURCE_SPANS_RESOURCE) this.readResource(reader, readSubmessageEnd(reader, end), resourceAttributes);
      else if (tag === RESOURCE_SPANS_SCOPE_SPANS || tag === RESOURCE_SPANS_LIBRARY_SPANS) this.readScopeSpans(reader, readSubmessageEnd(reader, end), resourceAttributes, out);
      else skipField(reader, tag & 7);
    }
  }

  private readResource(reader: Reader, end: number, target: Record<string, string>): void {
    let count = Object.keys(target).length;
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag !== RESOURCE_ATTRIBUTES) skipField(reader, tag & 7);
      else if (this.readKeyValue(reader, readSubmessageEnd(reader, end), target, count)) count++;
    }
  }

  private readScopeSpans(reader: Reader, end: number, resourceAttributes: Record<string, string>, out: SpanInput[]): void {
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag !== SCOPE_SPANS_SPANS) {
        skipField(reader, tag & 7);
        continue;
      }
      if (out.length >= this.maxSpans) throw new OtlpDecodeError(`request carries more than ${this.maxSpans} spans; split it into smaller batches`);
      out.push(this.readSpan(reader, readSubmessageEnd(reader, end), resourceAttributes));
    }
  }

  private readSpan(reader: Reader, end: number, resourceAttributes: Record<string, string>): SpanInput {
    const buf = reader.buf as Buffer;
    let traceId = "";
    let spanId = "";
    let parentSpanId = "";
    let name = "";
    let kind: SpanKind = "internal";
    let start = 0n;
    let finish = 0n;
    let hasErrorStatus = false;
    let statusMessage = "";
    const attributes: Record<string, string> = {};
    let attributeCount = 0;
    while (reader.pos < end) {
      const tag = readTag(reader);
      switch (tag) {
        case SPAN_TRACE_ID:
          traceId = readHex(reader, end);
          break;
        case SPAN_SPAN_ID:
          spanId = readHex(reader, end);
          break;
        case SPAN_PARENT_SPAN_ID:
          parentSpanId = readHex(reader, end);
          break;
        case SPAN_NAME:
          name = readInternedString(reader, end, this.strings);
          if (name.length > MAX_NAME_LENGTH) name = name.slice(0, MAX_NAME_LENGTH);
          break;
        case SPAN_KIND:
          kind = KINDS[readVarintAsNumber(reader)] ?? "internal";
          break;
        case SPAN_START_TIME:
          start = readFixed64(reader, buf, end);
          break;
        case SPAN_END_TIME:
          finish = readFixed64(reader, buf, end);
          break;
        case SPAN_ATTRIBUTES:
          if (this.readKeyValue(reader, readSubmessageEnd(reader, end), attributes, attributeCount)) attributeCount++;
          break;
        case SPAN_STATUS: {
          const status = this.readStatus(reader, readSubmessageEnd(reader, end));
          hasErrorStatus = status.code === STATUS_CODE_ERROR;
          statusMessage = status.message;
          break;
        }
        default:
          skipField(reader, tag & 7);
      }
    }
    return {
      traceId,
      spanId,
      parentSpanId,
      name,
      kind,
      startTimeUnixNano: start,
      durationNs: finish >= start ? Number(finish - start) : -1,
      hasErrorStatus,
      statusMessage,
      attributes,
      resourceAttributes,
    };
  }

  private readStatus(reader: Reader, end: number): { code: number; message: string } {
    let code = 0;
    let message = "";
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === STATUS_CODE) code = readVarintAsNumber(reader);
      else if (tag === STATUS_MESSAGE) message = readInternedString(reader, end, this.strings);
      else skipField(reader, tag & 7);
    }
    return { code, message };
  }

  /** Reads one KeyValue into `target` within the per-span bounds; false when it was not added. */
  private readKeyValue(reader: Reader, end: number, target: Record<string, string>, count: number): boolean {
    let key = "";
    let value = "";
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === KEY_VALUE_KEY) key = readInternedString(reader, end, this.strings);
      else if (tag === KEY_VALUE_VALUE) value = this.readAnyValue(reader, readSubmessageEnd(reader, end), 0);
      else skipField(reader, tag & 7);
    }
    if (key === "") return false;
    return putAttribute(target, key, value, count);
  }

  /** Flattens an AnyValue to text like the JSON path: arrays and maps become JSON, bytes base64. */
  private readAnyValue(reader: Reader, end: number, depth: number): string {
    if (depth > MAX_VALUE_DEPTH) {
      reader.pos = end;
      return "";
    }
    let value = "";
    // A oneof: the last field on the wire wins, as in every protobuf decoder.
    while (reader.pos < end) {
      const tag = readTag(reader);
      switch (tag) {
        case ANY_STRING:
          value = readInternedString(reader, end, this.strings);
          break;
        case ANY_BOOL:
          value = readVarintAsNumber(reader) !== 0 ? "true" : "false";
          break;
        case ANY_INT:
          value = readInt64Text(reader);
          break;
        case ANY_DOUBLE:
          value = String(readDouble(reader, end));
          break;
        case ANY_BYTES: {
          const stop = readBytesEnd(reader, end);
          value = (reader.buf as Buffer).toString("base64", reader.pos, stop);
          reader.pos = stop;
          break;
        }
        case ANY_ARRAY:
          value = JSON.stringify(this.readList(reader, readSubmessageEnd(reader, end), (valueEnd) => this.readAnyValue(reader, valueEnd, depth + 1)));
          break;
        case ANY_KVLIST:
          value = JSON.stringify(Object.fromEntries(this.readList(reader, readSubmessageEnd(reader, end), (entryEnd) => this.readEntry(reader, entryEnd, depth + 1))));
          break;
        default:
          skipField(reader, tag & 7);
      }
    }
    return value;
  }

  private readList<T>(reader: Reader, end: number, readItem: (itemEnd: number) => T): T[] {
    const items: T[] = [];
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === LIST_VALUES) items.push(readItem(readSubmessageEnd(reader, end)));
      else skipField(reader, tag & 7);
    }
    return items;
  }

  private readEntry(reader: Reader, end: number, depth: number): [string, string] {
    let key = "";
    let value = "";
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === KEY_VALUE_KEY) key = readInternedString(reader, end, this.strings);
      else if (tag === KEY_VALUE_VALUE) value = this.readAnyValue(reader, readSubmessageEnd(reader, end), depth);
      else skipField(reader, tag & 7);
    }
    return [key, value];
  }
}

function readHex(reader: Reader, end: number): string {
  const stop = readBytesEnd(reader, end);
  const hex = stop === reader.pos ? "" : (reader.buf as Buffer).toString("hex", reader.pos, stop);
  reader.pos = stop;
  return hex;
}

function readFixed64(reader: Reader, buf: Buffer, end: number): bigint {
  if (reader.pos + 8 > end) throw new RangeError(`fixed64 at offset ${reader.pos} runs past its message`);
  const value = buf.readBigUInt64LE(reader.pos);
  reader.pos += 8;
  return value;
}

function readDouble(reader: Reader, end: number): number {
  if (reader.pos + 8 > end) throw new RangeError(`double at offset ${reader.pos} runs past its message`);
  const value = (reader.buf as Buffer).readDoubleLE(reader.pos);
  reader.pos += 8;
  return value;
}

/** An int64 varint as exact decimal text; numbers past 2^53 (rare in attributes) go through BigInt. */
function readInt64Text(reader: Reader): string {
  const start = reader.pos;
  const approximate = readVarintAsNumber(reader);
  if (approximate <= Number.MAX_SAFE_INTEGER) return String(approximate);
  let bits = 0n;
  for (let index = reader.pos - 1; index >= start; index--) bits = (bits << 7n) | BigInt((reader.buf[index] as number) & 0x7f);
  return BigInt.asIntN(64, bits).toString();
}
