/**
 * Reads `envoy.data.accesslog.v3.AccessLogCommon` (v2 is the same up to field 21) into an entry.
 * Field numbers: envoy/data/accesslog/v3/accesslog.proto in collector/proto.
 */
import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { hashBytes } from "../wire/byte-keyed-cache.ts";
import type { DecoderMemo } from "./decoder-memo.ts";
import { readFilterStateEntry } from "./peer-metadata.ts";
import { readResponseFlags } from "./response-flags.ts";
import {
  type Reader,
  readBytesEnd,
  readInternedString,
  readSecondsNanosAsMs,
  readString,
  readSubmessageEnd,
  readTag,
  readVarintAsNumber,
  skipField,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
} from "../wire/protobuf-reader.ts";

const tagOf = (field: number): number => (field << 3) | WIRE_LENGTH_DELIMITED;
const DOWNSTREAM_REMOTE_ADDRESS = tagOf(2);
const DOWNSTREAM_LOCAL_ADDRESS = tagOf(3);
const TLS_PROPERTIES = tagOf(4);
const START_TIME = tagOf(5);
const TIME_TO_FIRST_UPSTREAM_TX_BYTE = tagOf(7);
const TIME_TO_LAST_UPSTREAM_RX_BYTE = tagOf(10);
const TIME_TO_LAST_DOWNSTREAM_TX_BYTE = tagOf(12);
const UPSTREAM_REMOTE_ADDRESS = tagOf(13);
const UPSTREAM_LOCAL_ADDRESS = tagOf(14);
const UPSTREAM_CLUSTER = tagOf(15);
const RESPONSE_FLAGS = tagOf(16);
const DOWNSTREAM_DIRECT_REMOTE_ADDRESS = tagOf(20);
const FILTER_STATE_OBJECTS = tagOf(21);
const DURATION = tagOf(23);

const ADDRESS_SOCKET = tagOf(1);
const ADDRESS_PIPE = tagOf(2);
const ADDRESS_ENVOY_INTERNAL = tagOf(3);
const SOCKET_ADDRESS = tagOf(2);
const SOCKET_PORT_VALUE = (3 << 3) | WIRE_VARINT;
const SOCKET_NAMED_PORT = tagOf(4);
const PIPE_PATH = tagOf(1);
const INTERNAL_ENDPOINT_ID = tagOf(2);

const TLS_SNI_HOSTNAME = tagOf(3);
const TLS_LOCAL_CERTIFICATE = tagOf(4);
const TLS_PEER_CERTIFICATE = tagOf(5);
const CERT_SUBJECT_ALT_NAME = tagOf(1);
const CERT_SUBJECT = tagOf(2);
const SAN_URI = tagOf(1);

/** Reads AccessLogCommon (the reader stands on its length) into `entry`. */
export function readCommonProperties(reader: Reader, parentEnd: number, entry: AccessLogEntry, memo: DecoderMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  let firstUpstreamTxMs = -1;
  let lastUpstreamRxMs = -1;
  while (reader.pos < end) {
    const tag = readTag(reader);
    switch (tag) {
      case DOWNSTREAM_REMOTE_ADDRESS:
        entry.downstreamRemoteAddress = readAddress(reader, end, memo);
        break;
      case DOWNSTREAM_LOCAL_ADDRESS:
        entry.downstreamLocalAddress = readAddress(reader, end, memo);
        break;
      case TLS_PROPERTIES:
        readTlsProperties(reader, end, entry, memo);
        break;
      case START_TIME:
        // Whole milliseconds: storage keys and sample times are integer ms; sub-ms start times add nothing.
        entry.startTimeMs = Math.floor(readSecondsNanosAsMs(reader, end));
        break;
      case TIME_TO_FIRST_UPSTREAM_TX_BYTE:
        firstUpstreamTxMs = readSecondsNanosAsMs(reader, end);
        break;
      case TIME_TO_LAST_UPSTREAM_RX_BYTE:
        lastUpstreamRxMs = readSecondsNanosAsMs(reader, end);
        break;
      case TIME_TO_LAST_DOWNSTREAM_TX_BYTE:
        entry.timeToLastDownstreamTxMs = readSecondsNanosAsMs(reader, end);
        break;
      case UPSTREAM_REMOTE_ADDRESS:
        entry.upstreamRemoteAddress = readAddress(reader, end, memo);
        break;
      case UPSTREAM_LOCAL_ADDRESS:
        entry.upstreamLocalAddress = readAddress(reader, end, memo);
        break;
      case UPSTREAM_CLUSTER:
        entry.upstreamCluster = readInternedString(reader, end, memo.strings);
        break;
      case RESPONSE_FLAGS:
        entry.responseFlags = readResponseFlags(reader, end);
        break;
      case DOWNSTREAM_DIRECT_REMOTE_ADDRESS:
        entry.downstreamDirectRemoteAddress = readAddress(reader, end, memo);
        break;
      case FILTER_STATE_OBJECTS:
        readFilterStateEntry(reader, end, entry, memo.peers);
        break;
      case DURATION:
        entry.durationMs = readSecondsNanosAsMs(reader, end);
        break;
      default:
        skipField(reader, tag & 7);
    }
  }
  if (firstUpstreamTxMs >= 0 && lastUpstreamRxMs >= 0) entry.upstreamLatencyMs = lastUpstreamRxMs - firstUpstreamTxMs;
  // v2 has no `duration` (field 23); Envoy's %DURATION% is the time to the last downstream byte sent.
  if (entry.durationMs < 0) entry.durationMs = entry.timeToLastDownstreamTxMs;
}

/** Linux's default ephemeral range starts here: a port from it names one connection, rarely seen twice. */
const FIRST_EPHEMERAL_PORT = 32_768;

/**
 * Reads `config.core.v3.Address` as text the way Envoy prints it: `ip:port` (`[ip]:port` for IPv6), a
 * pipe path, or an internal address's `endpoint_id` (which Istio sets to the `ip:port` behind HBONE).
 */
function readAddress(reader: Reader, parentEnd: number, memo: DecoderMemo): string {
  const end = readSubmessageEnd(reader, parentEnd);
  let text = "";
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ADDRESS_SOCKET) text = readSocketAddress(reader, end, memo);
    else if (tag === ADDRESS_PIPE) text = readStringField(reader, end, PIPE_PATH);
    else if (tag === ADDRESS_ENVOY_INTERNAL) text = readStringField(reader, end, INTERNAL_ENDPOINT_ID);
    else skipField(reader, tag & 7);
  }
  return text;
}

/**
 * Pod and service addresses repeat on entry after entry: their text is memoized by the SocketAddress
 * bytes. Per-connection addresses (an ephemeral port) are built from the interned IP and never cached, so
 * they cost no lookup that would miss and cannot push the repeating ones out.
 */
function readSocketAddress(reader: Reader, parentEnd: number, memo: DecoderMemo): string {
  const end = readSubmessageEnd(reader, parentEnd);
  const bytes = reader.buf as Buffer;
  const start = reader.pos;
  let ipStart = 0;
  let ipEnd = 0;
  // The last of port_value and named_port wins, as for any protobuf oneof read field by field.
  let portNumber = -1;
  let namedPort = "";
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === SOCKET_ADDRESS) {
      ipEnd = readBytesEnd(reader, end);
      ipStart = reader.pos;
      reader.pos = ipEnd;
    } else if (tag === SOCKET_PORT_VALUE) {
      portNumber = readVarintAsNumber(reader);
      namedPort = "";
    } else if (tag === SOCKET_NAMED_PORT) {
      portNumber = -1;
      namedPort = readString(reader, end);
    } else skipField(reader, tag & 7);
  }
  if (portNumber >= FIRST_EPHEMERAL_PORT) return socketAddressText(memo.strings.intern(bytes, ipStart, ipEnd), memo.portText(portNumber));
  const hash = end - start <= memo.addresses.maxKeyBytes ? hashBytes(bytes, start, end) : 0;
  const known = memo.addresses.get(bytes, start, end, hash);
  if (known !== undefined) return known;
  const text = socketAddressText(memo.strings.intern(bytes, ipStart, ipEnd), portNumber >= 0 ? String(portNumber) : namedPort);
  memo.addresses.set(bytes, start, end, hash, text);
  return text;
}

/** `ip:port`, `[v6]:port`, or the bare IP without a port. */
function socketAddressText(ip: string, port: string): string {
  if (port === "") return ip;
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Reads a sub-message (the reader stands on its length) and returns its string field `wantedTag`. */
function readStringField(reader: Reader, parentEnd: number, wantedTag: number): string {
  const end = readSubmessageEnd(reader, parentEnd);
  let value = "";
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === wantedTag) value = readString(reader, end);
    else skipField(reader, tag & 7);
  }
  return value;
}

/** Like readStringField, but only says whether the field's last occurrence is non-empty (no string built). */
function readStringFieldIsSet(reader: Reader, parentEnd: number, wantedTag: number): boolean {
  const end = readSubmessageEnd(reader, parentEnd);
  let isSet = false;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === wantedTag) isSet = readNonEmptyBytes(reader, end);
    else skipField(reader, tag & 7);
  }
  return isSet;
}

/** Skips a string or bytes field, returning whether it had any bytes (a UTF-8 string is "" only when it has none). */
function readNonEmptyBytes(reader: Reader, end: number): boolean {
  const stop = readBytesEnd(reader, end);
  const isNonEmpty = stop > reader.pos;
  reader.pos = stop;
  return isNonEmpty;
}

/**
 * TLSProperties describe the downstream connection. The mode follows SkyWalking's rule: a local
 * certificate alone is TLS, local and peer certificates are mTLS; a certificate counts when it has a
 * subject or a URI SAN (Istio's SPIFFE identities have only the latter). The peer's URI SAN is kept: it
 * is the caller's mTLS identity (docs/architecture.md, "Call attribution").
 */
function readTlsProperties(reader: Reader, parentEnd: number, entry: AccessLogEntry, memo: DecoderMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  let hasLocalCertificate = false;
  let hasPeerCertificate = false;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === TLS_SNI_HOSTNAME) entry.requestedServerName = readInternedString(reader, end, memo.strings);
    else if (tag === TLS_LOCAL_CERTIFICATE) hasLocalCertificate = readCertificate(reader, end, null, memo) || hasLocalCertificate;
    else if (tag === TLS_PEER_CERTIFICATE) hasPeerCertificate = readCertificate(reader, end, entry, memo) || hasPeerCertificate;
    else skipField(reader, tag & 7);
  }
  entry.tlsMode = hasLocalCertificate ? (hasPeerCertificate ? "mtls" : "tls") : "none";
}

/** Whether the certificate has an identity; the first URI SAN goes to `peerOf` when given. */
function readCertificate(reader: Reader, parentEnd: number, peerOf: AccessLogEntry | null, memo: DecoderMemo): boolean {
  const end = readSubmessageEnd(reader, parentEnd);
  let hasIdentity = false;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === CERT_SUBJECT) hasIdentity = readNonEmptyBytes(reader, end) || hasIdentity;
    else if (tag !== CERT_SUBJECT_ALT_NAME) skipField(reader, tag & 7);
    else if (peerOf === null) hasIdentity = readStringFieldIsSet(reader, end, SAN_URI) || hasIdentity;
    else {
      const uri = readUriSan(reader, end, memo);
      if (uri !== "" && peerOf.downstreamPeerPrincipal === "") peerOf.downstreamPeerPrincipal = uri;
      hasIdentity = uri !== "" || hasIdentity;
    }
  }
  return hasIdentity;
}

/** `SubjectAltName.uri`, interned: a mesh has few identities and every mTLS entry repeats one. */
function readUriSan(reader: Reader, parentEnd: number, memo: DecoderMemo): string {
  const end = readSubmessageEnd(reader, parentEnd);
  let uri = "";
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === SAN_URI) uri = readInternedString(reader, end, memo.strings);
    else skipField(reader, tag & 7);
  }
  return uri;
}
