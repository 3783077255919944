/**
 * Istio peer metadata carried in `AccessLogCommon.filter_state_objects` (field 21, map<string, Any>).
 * Istio >= 1.24 logs `downstream_peer` / `upstream_peer` as an Any wrapping `google.protobuf.Struct` bytes
 * (istio/proxy `extensions/common/metadata_object.cc`, lower-case keys); other code paths write upper-case
 * `NAME`/`NAMESPACE`/`LABELS`, so keys are looked up case-insensitively, as SkyWalking's FieldsHelper does.
 * Istio <= 1.23 logs `wasm.downstream_peer` / `wasm.upstream_peer` as a FlatBuffer (see flat-node.ts).
 */
import type { PeerMetadata } from "../../../core/model/access-log.ts";
import { ByteKeyedCache, hashBytes } from "../wire/byte-keyed-cache.ts";
import { readFlatNode } from "./flat-node.ts";
import { type JsonObject, type JsonValue, readStructBody } from "./struct.ts";
import { endsWithBytes, equalsBytes, type Reader, readBytesEnd, readBytesView, readSubmessageEnd, readTag, skipField, WIRE_LENGTH_DELIMITED } from "../wire/protobuf-reader.ts";

const ENTRY_KEY = (1 << 3) | WIRE_LENGTH_DELIMITED;
const ENTRY_VALUE = (2 << 3) | WIRE_LENGTH_DELIMITED;
const ANY_TYPE_URL = (1 << 3) | WIRE_LENGTH_DELIMITED;
const ANY_VALUE = (2 << 3) | WIRE_LENGTH_DELIMITED;
const BYTES_VALUE = (1 << 3) | WIRE_LENGTH_DELIMITED;

const STRUCT_TYPE_SUFFIX = "google.protobuf.Struct";
const BYTES_VALUE_TYPE_SUFFIX = "google.protobuf.BytesValue";

/** The label Istio uses for the canonical service name (https://istio.io/latest/docs/reference/config/labels/). */
const CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";

/** Where decoded peers land; the entry under construction satisfies it. */
export interface PeerSlots {
  downstreamPeer: PeerMetadata | null;
  upstreamPeer: PeerMetadata | null;
}

const DEFAULT_PEER_MEMO_ENTRIES = 8192;
/** Istio peer Structs are a few hundred bytes; one far larger is decoded every time rather than held. */
const MAX_MEMO_PEER_BYTES = 4096;

/**
 * Decoded peers by their encoded bytes. A proxy logs the same few peers (its callers and callees) on
 * entry after entry, and decoding a peer Struct costs more than the rest of the entry; recognising its
 * bytes (a hash and a memcmp, see ByteKeyedCache) is far cheaper. Peers handed out are frozen because
 * entries share them.
 */
export class PeerMemo {
  private readonly structPeers: ByteKeyedCache<PeerMetadata>;
  private readonly flatPeers: ByteKeyedCache<PeerMetadata>;

  constructor(entriesPerForm = DEFAULT_PEER_MEMO_ENTRIES) {
    this.structPeers = new ByteKeyedCache(entriesPerForm, MAX_MEMO_PEER_BYTES);
    this.flatPeers = new ByteKeyedCache(entriesPerForm, MAX_MEMO_PEER_BYTES);
  }

  /** The peer already decoded from the bytes in [reader.pos, end), if any; the reader does not move. */
  find(form: "struct" | "flat", reader: Reader, end: number): PeerMetadata | undefined {
    const start = reader.pos;
    if (end - start > MAX_MEMO_PEER_BYTES) return undefined;
    const bytes = reader.buf as Buffer;
    return this.cacheOf(form).get(bytes, start, end, hashBytes(bytes, start, end));
  }

  /** Freezes `peer` (entries share it) and remembers it as decoded from bytes[start, end). */
  remember(form: "struct" | "flat", bytes: Uint8Array, start: number, end: number, peer: PeerMetadata): PeerMetadata {
    Object.freeze(peer.labels);
    Object.freeze(peer);
    if (end - start <= MAX_MEMO_PEER_BYTES) this.cacheOf(form).set(bytes as Buffer, start, end, hashBytes(bytes, start, end), peer);
    return peer;
  }

  private cacheOf(form: "struct" | "flat"): ByteKeyedCache<PeerMetadata> {
    return form === "struct" ? this.structPeers : this.flatPeers;
  }
}

/** Which peer a filter-state key names (0: none). Keys are ASCII, so comparing their bytes is exact. */
const NOT_A_PEER = 0;
const DOWNSTREAM_PEER = 1;
const UPSTREAM_PEER = 2;
const WASM_DOWNSTREAM_PEER = 3;
const WASM_UPSTREAM_PEER = 4;
const PEER_KEYS: readonly (readonly [Uint8Array, number])[] = [
  [Buffer.from("downstream_peer"), DOWNSTREAM_PEER],
  [Buffer.from("upstream_peer"), UPSTREAM_PEER],
  [Buffer.from("wasm.downstream_peer"), WASM_DOWNSTREAM_PEER],
  [Buffer.from("wasm.upstream_peer"), WASM_UPSTREAM_PEER],
];
const STRUCT_TYPE_SUFFIX_BYTES = Buffer.from(STRUCT_TYPE_SUFFIX);
const BYTES_VALUE_TYPE_SUFFIX_BYTES = Buffer.from(BYTES_VALUE_TYPE_SUFFIX);

function peerKeyOf(bytes: Uint8Array, start: number, end: number): number {
  for (let index = 0; index < PEER_KEYS.length; index++) {
    const [key, peerKey] = PEER_KEYS[index] as readonly [Uint8Array, number];
    if (equalsBytes(bytes, start, end, key)) return peerKey;
  }
  return NOT_A_PEER;
}

/**
 * Reads one `filter_state_objects` map entry (the reader stands on its length) and, when it is a peer
 * Istio logs, stores it in `slots`. Other filter state (`wasm.*_peer_id`, custom objects) is skipped.
 * The Struct form wins over the older FlatBuffer one when a proxy logs both. Key and type URL are only
 * compared, never turned into strings: most filter state is not a peer.
 */
export function readFilterStateEntry(reader: Reader, parentEnd: number, slots: PeerSlots, memo: PeerMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  const bytes = reader.buf;
  let peerKey = NOT_A_PEER;
  let typeUrlStart = 0;
  let typeUrlEnd = 0;
  let valueStart = -1;
  let valueEnd = -1;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ENTRY_KEY) {
      const keyEnd = readBytesEnd(reader, end);
      peerKey = peerKeyOf(bytes, reader.pos, keyEnd);
      reader.pos = keyEnd;
    } else if (tag === ENTRY_VALUE) {
      const anyEnd = readSubmessageEnd(reader, end);
      while (reader.pos < anyEnd) {
        const anyTag = readTag(reader);
        if (anyTag === ANY_TYPE_URL) {
          typeUrlEnd = readBytesEnd(reader, anyEnd);
          typeUrlStart = reader.pos;
          reader.pos = typeUrlEnd;
        } else if (anyTag === ANY_VALUE) {
          // Map entries may put the key after the value: remember where the value is, decode it once the key is known.
          valueEnd = readBytesEnd(reader, anyEnd);
          valueStart = reader.pos;
          reader.pos = valueEnd;
        } else skipField(reader, anyTag & 7);
      }
    } else skipField(reader, tag & 7);
  }
  if (peerKey === NOT_A_PEER || valueStart < 0) return;
  const resumeAt = reader.pos;
  reader.pos = valueStart;
  try {
    if (peerKey === DOWNSTREAM_PEER || peerKey === UPSTREAM_PEER) {
      if (!endsWithBytes(bytes, typeUrlStart, typeUrlEnd, STRUCT_TYPE_SUFFIX_BYTES)) return;
      const peer = memo.find("struct", reader, valueEnd) ?? memo.remember("struct", bytes, valueStart, valueEnd, peerMetadataFromStruct(readStructBody(reader, valueEnd)));
      if (peerKey === DOWNSTREAM_PEER) slots.downstreamPeer = peer;
      else slots.upstreamPeer = peer;
    } else {
      if (!endsWithBytes(bytes, typeUrlStart, typeUrlEnd, BYTES_VALUE_TYPE_SUFFIX_BYTES)) return;
      const peer = memo.find("flat", reader, valueEnd) ?? memo.remember("flat", bytes, valueStart, valueEnd, readFlatNode(readBytesValue(reader, valueEnd)));
      if (peerKey === WASM_DOWNSTREAM_PEER) slots.downstreamPeer ??= peer;
      else slots.upstreamPeer ??= peer;
    }
  } finally {
    reader.pos = resumeAt;
  }
}

function readBytesValue(reader: Reader, end: number): Uint8Array {
  let bytes: Uint8Array = new Uint8Array(0);
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === BYTES_VALUE) bytes = readBytesView(reader, end);
    else skipField(reader, tag & 7);
  }
  return bytes;
}

/** Maps an Istio peer Struct (either key casing) to meshsight's PeerMetadata. */
export function peerMetadataFromStruct(struct: JsonObject): PeerMetadata {
  const byLowerKey = new Map<string, JsonValue>();
  for (const [key, value] of Object.entries(struct)) byLowerKey.set(key.toLowerCase(), value);
  const text = (...keys: string[]): string => {
    for (const key of keys) {
      const value = byLowerKey.get(key);
      if (typeof value === "string" && value !== "") return value;
    }
    return "";
  };
  const labels = stringLabels(byLowerKey.get("labels"));
  // The lower-case form carries app/version as top-level keys rather than labels; keep them where the
  // naming rules look (LABELS.app), without overriding real labels.
  const app = text("app");
  if (app !== "" && labels["app"] === undefined) labels["app"] = app;
  const version = text("version") || labels["version"] || "";
  if (version !== "" && labels["version"] === undefined) labels["version"] = version;
  return {
    name: text("name", "pod_name"),
    namespace: text("namespace"),
    service: text("service") || labels[CANONICAL_NAME_LABEL] || "",
    workload: text("workload", "workload_name"),
    cluster: text("cluster", "cluster_id"),
    version,
    labels,
  };
}

function stringLabels(value: JsonValue | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) return labels;
  for (const [key, labelValue] of Object.entries(value)) {
    if (typeof labelValue === "string") labels[key] = labelValue;
  }
  return labels;
}
