/**
 * Decodes one `HTTPAccessLogEntry` or `TCPAccessLogEntry` into meshsight's AccessLogEntry, reading only
 * the fields meshsight uses. Field numbers: envoy/data/accesslog/v3/accesslog.proto (v2 is a prefix).
 */
import { newAccessLogEntry, type AccessLogEntry } from "../../../core/model/access-log.ts";
import { readCommonProperties } from "./common-properties.ts";
import type { DecoderMemo } from "./decoder-memo.ts";
import { readRequestHeader } from "./request-headers.ts";
import {
  type Reader,
  readInternedString,
  readString,
  readSubmessageEnd,
  readTag,
  readUnsignedWrapper,
  readVarintAsNumber,
  skipField,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
} from "../wire/protobuf-reader.ts";

const bytesTag = (field: number): number => (field << 3) | WIRE_LENGTH_DELIMITED;
const varintTag = (field: number): number => (field << 3) | WIRE_VARINT;

const ENTRY_COMMON_PROPERTIES = bytesTag(1);
const HTTP_REQUEST = bytesTag(3);
const HTTP_RESPONSE = bytesTag(4);
const TCP_CONNECTION_PROPERTIES = bytesTag(2);

const REQUEST_METHOD = varintTag(1);
const REQUEST_SCHEME = bytesTag(2);
const REQUEST_AUTHORITY = bytesTag(3);
const REQUEST_PATH = bytesTag(5);
const REQUEST_USER_AGENT = bytesTag(6);
const REQUEST_ID = bytesTag(9);
const REQUEST_ORIGINAL_PATH = bytesTag(10);
const REQUEST_BODY_BYTES = varintTag(12);
const REQUEST_HEADERS = bytesTag(13);

const RESPONSE_CODE = bytesTag(1);
const RESPONSE_BODY_BYTES = varintTag(3);

const CONNECTION_RECEIVED_BYTES = varintTag(1);
const CONNECTION_SENT_BYTES = varintTag(2);

/** `config.core.v3.RequestMethod` by number. */
const METHOD_NAMES: readonly string[] = ["", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/** Decodes an HTTPAccessLogEntry spanning [reader.pos, end). */
export function decodeHttpEntry(reader: Reader, end: number, memo: DecoderMemo): AccessLogEntry {
  const entry = newAccessLogEntry("http");
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ENTRY_COMMON_PROPERTIES) readCommonProperties(reader, end, entry, memo);
    else if (tag === HTTP_REQUEST) readRequest(reader, end, entry, memo);
    else if (tag === HTTP_RESPONSE) readResponse(reader, end, entry);
    else skipField(reader, tag & 7);
  }
  return entry;
}

/** Decodes a TCPAccessLogEntry spanning [reader.pos, end). */
export function decodeTcpEntry(reader: Reader, end: number, memo: DecoderMemo): AccessLogEntry {
  const entry = newAccessLogEntry("tcp");
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ENTRY_COMMON_PROPERTIES) readCommonProperties(reader, end, entry, memo);
    else if (tag === TCP_CONNECTION_PROPERTIES) readConnectionProperties(reader, end, entry);
    else skipField(reader, tag & 7);
  }
  return entry;
}

/** Request fields that repeat (scheme, authority, path, user agent) are interned; the request id never repeats. */
function readRequest(reader: Reader, parentEnd: number, entry: AccessLogEntry, memo: DecoderMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  let originalPath = "";
  while (reader.pos < end) {
    const tag = readTag(reader);
    switch (tag) {
      case REQUEST_METHOD:
        entry.method = METHOD_NAMES[readVarintAsNumber(reader)] ?? "";
        break;
      case REQUEST_SCHEME:
        entry.scheme = readInternedString(reader, end, memo.strings);
        break;
      case REQUEST_AUTHORITY:
        entry.authority = readInternedString(reader, end, memo.strings);
        break;
      case REQUEST_PATH:
        entry.path = readInternedString(reader, end, memo.strings);
        break;
      case REQUEST_USER_AGENT:
        entry.userAgent = readInternedString(reader, end, memo.strings);
        break;
      case REQUEST_ID:
        entry.requestId = readString(reader, end);
        break;
      case REQUEST_ORIGINAL_PATH:
        originalPath = readInternedString(reader, end, memo.strings);
        break;
      case REQUEST_BODY_BYTES:
        entry.bytesReceived = readVarintAsNumber(reader);
        break;
      case REQUEST_HEADERS:
        readRequestHeader(reader, end, entry, memo.peers);
        break;
      default:
        skipField(reader, tag & 7);
    }
  }
  // Same choice as Istio's text format (%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%): the path the caller asked
  // for, before any rewrite, so ALS and text logs name endpoints alike.
  if (originalPath !== "") entry.path = originalPath;
}

function readResponse(reader: Reader, parentEnd: number, entry: AccessLogEntry): void {
  const end = readSubmessageEnd(reader, parentEnd);
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === RESPONSE_CODE) entry.responseCode = readUnsignedWrapper(reader, end);
    else if (tag === RESPONSE_BODY_BYTES) entry.bytesSent = readVarintAsNumber(reader);
    else skipField(reader, tag & 7);
  }
}

function readConnectionProperties(reader: Reader, parentEnd: number, entry: AccessLogEntry): void {
  const end = readSubmessageEnd(reader, parentEnd);
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === CONNECTION_RECEIVED_BYTES) entry.bytesReceived = readVarintAsNumber(reader);
    else if (tag === CONNECTION_SENT_BYTES) entry.bytesSent = readVarintAsNumber(reader);
    else skipField(reader, tag & 7);
  }
}
