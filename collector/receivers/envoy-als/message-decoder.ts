/**
 * Decodes one `envoy.service.accesslog.v3.StreamAccessLogsMessage` (v2 bytes decode the same way:
 * every v2 field keeps its number and type in v3). Damage is contained where the framing allows: a bad
 * log entry is dropped and counted while its neighbours survive; only broken outer framing ends the
 * message, keeping the entries decoded before the break.
 */
import type { AccessLogEntry, NodeInfo } from "../../../core/model/access-log.ts";
import { decodeHttpEntry, decodeTcpEntry } from "./entry-decoder.ts";
import type { DecoderMemo } from "./decoder-memo.ts";
import { readStructField } from "./struct.ts";
import { createReader, type Reader, readString, readSubmessageEnd, readTag, skipField, WIRE_LENGTH_DELIMITED } from "../wire/protobuf-reader.ts";

const bytesTag = (field: number): number => (field << 3) | WIRE_LENGTH_DELIMITED;
const MESSAGE_IDENTIFIER = bytesTag(1);
const MESSAGE_HTTP_LOGS = bytesTag(2);
const MESSAGE_TCP_LOGS = bytesTag(3);
const ENTRIES_LOG_ENTRY = bytesTag(1);
const IDENTIFIER_NODE = bytesTag(1);
const IDENTIFIER_LOG_NAME = bytesTag(2);
const NODE_ID = bytesTag(1);
const NODE_CLUSTER = bytesTag(2);
const NODE_METADATA = bytesTag(3);

export interface DecodedAlsMessage {
  /** The proxy's node when the message carries an identifier (the first message of a stream), else null. */
  node: NodeInfo | null;
  logName: string;
  entries: AccessLogEntry[];
  /** Log entries dropped because their bytes did not decode. */
  badEntries: number;
  /** Why the rest of the message could not be read ("" when all of it was). */
  malformedReason: string;
}

export function decodeAlsMessage(bytes: Uint8Array, memo: DecoderMemo): DecodedAlsMessage {
  const decoded: DecodedAlsMessage = { node: null, logName: "", entries: [], badEntries: 0, malformedReason: "" };
  const reader = createReader(bytes);
  const end = reader.len;
  try {
    while (reader.pos < end) {
      const tag = readTag(reader);
      if (tag === MESSAGE_IDENTIFIER) readIdentifier(reader, end, decoded);
      else if (tag === MESSAGE_HTTP_LOGS) readEntries(reader, end, decoded, decodeHttpEntry, memo);
      else if (tag === MESSAGE_TCP_LOGS) readEntries(reader, end, decoded, decodeTcpEntry, memo);
      else skipField(reader, tag & 7);
    }
  } catch (error) {
    decoded.malformedReason = error instanceof Error ? error.message : String(error);
  }
  return decoded;
}

function readEntries(
  reader: Reader,
  parentEnd: number,
  decoded: DecodedAlsMessage,
  decodeEntry: (reader: Reader, end: number, memo: DecoderMemo) => AccessLogEntry,
  memo: DecoderMemo,
): void {
  const end = readSubmessageEnd(reader, parentEnd);
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag !== ENTRIES_LOG_ENTRY) {
      skipField(reader, tag & 7);
      continue;
    }
    const entryEnd = readSubmessageEnd(reader, end);
    try {
      decoded.entries.push(decodeEntry(reader, entryEnd, memo));
    } catch {
      // The entry's length framed it correctly, so the next entry is still readable.
      decoded.badEntries++;
    }
    reader.pos = entryEnd;
  }
}

function readIdentifier(reader: Reader, parentEnd: number, decoded: DecodedAlsMessage): void {
  const end = readSubmessageEnd(reader, parentEnd);
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === IDENTIFIER_NODE) decoded.node = readNode(reader, end);
    else if (tag === IDENTIFIER_LOG_NAME) decoded.logName = readString(reader, end);
    else skipField(reader, tag & 7);
  }
}

function readNode(reader: Reader, parentEnd: number): NodeInfo {
  const end = readSubmessageEnd(reader, parentEnd);
  const node: NodeInfo = { id: "", cluster: "", metadata: {} };
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === NODE_ID) node.id = readString(reader, end);
    else if (tag === NODE_CLUSTER) node.cluster = readString(reader, end);
    else if (tag === NODE_METADATA) node.metadata = readStructField(reader, end);
    else skipField(reader, tag & 7);
  }
  return node;
}
