/**
 * Decodes `google.protobuf.Struct` / `Value` / `ListValue` straight from the wire into plain JSON, the
 * form node metadata and Istio peer metadata are used in. Field numbers from
 * https://github.com/protocolbuffers/protobuf/blob/main/src/google/protobuf/struct.proto.
 */
import {
  MAX_NESTING_DEPTH,
  type Reader,
  readString,
  readSubmessageEnd,
  readTag,
  readVarintAsNumber,
  skipField,
  WIRE_FIXED64,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
} from "../wire/protobuf-reader.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const STRUCT_FIELDS = (1 << 3) | WIRE_LENGTH_DELIMITED;
const ENTRY_KEY = (1 << 3) | WIRE_LENGTH_DELIMITED;
const ENTRY_VALUE = (2 << 3) | WIRE_LENGTH_DELIMITED;
const VALUE_NULL = (1 << 3) | WIRE_VARINT;
const VALUE_NUMBER = (2 << 3) | WIRE_FIXED64;
const VALUE_STRING = (3 << 3) | WIRE_LENGTH_DELIMITED;
const VALUE_BOOL = (4 << 3) | WIRE_VARINT;
const VALUE_STRUCT = (5 << 3) | WIRE_LENGTH_DELIMITED;
const VALUE_LIST = (6 << 3) | WIRE_LENGTH_DELIMITED;
const LIST_VALUES = (1 << 3) | WIRE_LENGTH_DELIMITED;

/** Reads a length-prefixed Struct field (the reader stands on its length). */
export function readStructField(reader: Reader, parentEnd: number, depth = 0): JsonObject {
  return readStructBody(reader, readSubmessageEnd(reader, parentEnd), depth);
}

/** Reads the body of a Struct that ends at `end` (e.g. the whole `value` of an Any). */
export function readStructBody(reader: Reader, end: number, depth = 0): JsonObject {
  if (depth > MAX_NESTING_DEPTH) throw new Error(`Struct nested deeper than ${MAX_NESTING_DEPTH}`);
  const object: JsonObject = {};
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag !== STRUCT_FIELDS) {
      skipField(reader, tag & 7);
      continue;
    }
    const entryEnd = readSubmessageEnd(reader, end);
    let key = "";
    let value: JsonValue = null;
    while (reader.pos < entryEnd) {
      const entryTag = readTag(reader);
      if (entryTag === ENTRY_KEY) key = readString(reader, entryEnd);
      else if (entryTag === ENTRY_VALUE) value = readValue(reader, entryEnd, depth + 1);
      else skipField(reader, entryTag & 7);
    }
    // Keys come from the wire: "__proto__" must become an ordinary key, not swap the object's prototype.
    if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    else object[key] = value;
  }
  return object;
}

function readValue(reader: Reader, parentEnd: number, depth: number): JsonValue {
  const end = readSubmessageEnd(reader, parentEnd);
  // An empty Value (no kind set) is what proto3 JSON writes as null.
  let value: JsonValue = null;
  while (reader.pos < end) {
    const tag = readTag(reader);
    switch (tag) {
      case VALUE_NULL:
        readVarintAsNumber(reader);
        value = null;
        break;
      case VALUE_NUMBER:
        value = reader.double();
        break;
      case VALUE_STRING:
        value = readString(reader, end);
        break;
      case VALUE_BOOL:
        value = readVarintAsNumber(reader) !== 0;
        break;
      case VALUE_STRUCT:
        value = readStructField(reader, end, depth + 1);
        break;
      case VALUE_LIST:
        value = readList(reader, end, depth + 1);
        break;
      default:
        skipField(reader, tag & 7);
    }
  }
  return value;
}

function readList(reader: Reader, parentEnd: number, depth: number): JsonValue[] {
  if (depth > MAX_NESTING_DEPTH) throw new Error(`ListValue nested deeper than ${MAX_NESTING_DEPTH}`);
  const end = readSubmessageEnd(reader, parentEnd);
  const values: JsonValue[] = [];
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === LIST_VALUES) values.push(readValue(reader, end, depth + 1));
    else skipField(reader, tag & 7);
  }
  return values;
}
