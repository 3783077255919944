/**
 * Istio peer metadata carried in `AccessLogCommon.filter_state_objects` (field 21, map<string, Any>).
 * Istio >= 1.24 logs `downstream_peer` / `upstream_peer` as an Any wrapping `google.protobuf.Struct` bytes
 * (istio/proxy `extensions/common/metadata_object.cc`, lower-case keys); other code paths write upper-case
 * `NAME`/`NAMESPACE`/`LABELS`, so keys are looked up case-insensitively, as SkyWalking's FieldsHelper does.
 * Istio <= 1.23 logs `wasm.downstream_peer` / `wasm.upstream_peer` as a FlatBuffer (see flat-node.ts).
 */
import type { PeerMetadata } from "../../../core/model/access-log.ts";
import { TwoGenerationCache } from "../../endpoints/two-generation-cache.ts";
import { readFlatNode } from "./flat-node.ts";
import { type JsonObject, type JsonValue, readStructBody } from "./struct.ts";
import { type Reader, readBytesView, readString, readSubmessageEnd, readTag, skipField, WIRE_LENGTH_DELIMITED } from "./wire.ts";

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

const DEFAULT_PEER_MEMO_ENTRIES = 4096;

/**
 * Decoded peers by their encoded bytes. A proxy logs the same few peers (its callers and callees) on
 * entry after entry, and decoding a peer Struct costs more than the rest of the entry; comparing bytes
 * through a string key is far cheaper. Peers handed out are frozen because entries share them.
 */
export class PeerMemo {
  private readonly cache: TwoGenerationCache<string, PeerMetadata>;

  constructor(generationSize = DEFAULT_PEER_MEMO_ENTRIES) {
    this.cache = new TwoGenerationCache(generationSize);
  }

  /** Returns the peer encoded in [reader.pos, end), decoding it with `decode` only on a miss. */
  decode(form: "struct" | "flat", reader: Reader, end: number, decode: () => PeerMetadata): PeerMetadata {
    const key = form + Buffer.from(reader.buf.buffer, reader.buf.byteOffset + reader.pos, end - reader.pos).toString("latin1");
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    const peer = decode();
    Object.freeze(peer.labels);
    this.cache.set(key, Object.freeze(peer));
    return peer;
  }
}

type PeerKey = "downstream_peer" | "upstream_peer" | "wasm.downstream_peer" | "wasm.upstream_peer";

function asPeerKey(key: string): PeerKey | null {
  return key === "downstream_peer" || key === "upstream_peer" || key === "wasm.downstream_peer" || key === "wasm.upstream_peer" ? key : null;
}

/**
 * Reads one `filter_state_objects` map entry (the reader stands on its length) and, when it is a peer
 * Istio logs, stores it in `slots`. Other filter state (`wasm.*_peer_id`, custom objects) is skipped.
 * The Struct form wins over the older FlatBuffer one when a proxy logs both.
 */
export function readFilterStateEntry(reader: Reader, parentEnd: number, slots: PeerSlots, memo: PeerMemo): void {
  const end = readSubmessageEnd(reader, parentEnd);
  let key = "";
  let typeUrl = "";
  let valueStart = -1;
  let valueEnd = -1;
  while (reader.pos < end) {
    const tag = readTag(reader);
    if (tag === ENTRY_KEY) {
      key = readString(reader, end);
    } else if (tag === ENTRY_VALUE) {
      const anyEnd = readSubmessageEnd(reader, end);
      while (reader.pos < anyEnd) {
        const anyTag = readTag(reader);
        if (anyTag === ANY_TYPE_URL) typeUrl = readString(reader, anyEnd);
        else if (anyTag === ANY_VALUE) {
          // Map entries may put the key after the value: remember where the value is, decode it once the key is known.
          const view = readBytesView(reader, anyEnd);
          valueEnd = reader.pos;
          valueStart = valueEnd - view.length;
        } else skipField(reader, anyTag & 7);
      }
    } else skipField(reader, tag & 7);
  }
  const peerKey = asPeerKey(key);
  if (peerKey === null || valueStart < 0) return;
  const resumeAt = reader.pos;
  reader.pos = valueStart;
  try {
    if (peerKey === "downstream_peer" || peerKey === "upstream_peer") {
      if (!typeUrl.endsWith(STRUCT_TYPE_SUFFIX)) return;
      const peer = memo.decode("struct", reader, valueEnd, () => peerMetadataFromStruct(readStructBody(reader, valueEnd)));
      if (peerKey === "downstream_peer") slots.downstreamPeer = peer;
      else slots.upstreamPeer = peer;
    } else {
      if (!typeUrl.endsWith(BYTES_VALUE_TYPE_SUFFIX)) return;
      const peer = memo.decode("flat", reader, valueEnd, () => readFlatNode(readBytesValue(reader, valueEnd)));
      if (peerKey === "wasm.downstream_peer") slots.downstreamPeer ??= peer;
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
