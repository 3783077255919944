import assert from "node:assert/strict";
import { test } from "node:test";
import { readFlatNode } from "../../../../collector/receivers/envoy-als/flat-node.ts";
import { decodeAlsMessage } from "../../../../collector/receivers/envoy-als/message-decoder.ts";
import { DecoderMemo } from "../../../../collector/receivers/envoy-als/decoder-memo.ts";
import { peerMetadataFromStruct } from "../../../../collector/receivers/envoy-als/peer-metadata.ts";
import { httpEntry, streamMessage, toStruct } from "../../../../collector/simulator/envoy-entries.ts";
import { protocol } from "./harness.ts";

/**
 * Builds a `Wasm.Common.FlatNode` (istio/proxy extensions/common/node_info.fbs) front to back: every
 * reference points forward, as FlatBuffers' unsigned offsets require. Test-only: meshsight never writes these.
 */
function flatNode(node: { name: string; namespace: string; workload: string; cluster: string; labels: Record<string, string> }): Uint8Array {
  const bytes: number[] = [];
  const u32 = (at: number, value: number): void => void bytes.splice(at, 4, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  const push32 = (value: number): number => (bytes.push(0, 0, 0, 0), u32(bytes.length - 4, value), bytes.length - 4);
  const push16 = (value: number): void => void bytes.push(value & 0xff, (value >>> 8) & 0xff);
  const align = (): void => void bytes.push(...new Array<number>((4 - (bytes.length % 4)) % 4).fill(0));
  const string = (fieldAt: number, text: string): void => {
    align();
    const at = push32(Buffer.byteLength(text));
    bytes.push(...Buffer.from(text), 0);
    u32(fieldAt, at - fieldAt);
  };
  /** A table: vtable of `slots` (slot -> field index), then the table, one uoffset per field; returns field positions. */
  const table = (slots: number[], fieldCount: number): { at: number; fields: number[] } => {
    align();
    const vtable = bytes.length;
    push16(4 + slots.length * 2);
    push16(4 + fieldCount * 4);
    for (const field of slots) push16(field < 0 ? 0 : 4 + field * 4);
    align();
    const at = push32(0);
    u32(at, at - vtable);
    const fields = Array.from({ length: fieldCount }, () => push32(0));
    return { at, fields };
  };
  push32(0); // root offset
  // Slots 0 name, 1 namespace, 2 labels, 3 owner, 4 workload_name, 5-8 unused here, 9 cluster_id.
  const root = table([0, 1, 2, -1, 3, -1, -1, -1, -1, 4], 5);
  u32(0, root.at);
  const [nameAt, namespaceAt, labelsAt, workloadAt, clusterAt] = root.fields as [number, number, number, number, number];
  string(nameAt, node.name);
  string(namespaceAt, node.namespace);
  string(workloadAt, node.workload);
  string(clusterAt, node.cluster);
  align();
  const labels = Object.entries(node.labels);
  const vectorAt = push32(labels.length);
  u32(labelsAt, vectorAt - labelsAt);
  const elementAts = labels.map(() => push32(0));
  labels.forEach(([key, value], index) => {
    const keyVal = table([0, 1], 2);
    u32(elementAts[index] as number, keyVal.at - (elementAts[index] as number));
    string(keyVal.fields[0] as number, key);
    string(keyVal.fields[1] as number, value);
  });
  return Uint8Array.from(bytes);
}

test("peer Struct keys are matched case-insensitively in both Istio spellings", () => {
  const upper = peerMetadataFromStruct({ NAME: "ratings-v1-abc", NAMESPACE: "default", WORKLOAD_NAME: "ratings-v1", CLUSTER_ID: "east", LABELS: { "service.istio.io/canonical-name": "ratings", version: "v1" } });
  assert.deepEqual(upper, { name: "ratings-v1-abc", namespace: "default", service: "ratings", workload: "ratings-v1", cluster: "east", version: "v1", labels: { "service.istio.io/canonical-name": "ratings", version: "v1" } });
  const lower = peerMetadataFromStruct({ name: "ratings-v1-abc", Namespace: "default", workload: "ratings-v1", cluster: "east", service: "ratings", app: "ratings", version: "v1", labels: { team: "books" } });
  assert.deepEqual(lower, { name: "ratings-v1-abc", namespace: "default", service: "ratings", workload: "ratings-v1", cluster: "east", version: "v1", labels: { team: "books", app: "ratings", version: "v1" } });
});

test("Istio <= 1.23 wasm.* FlatBuffer peers decode, and the Struct form wins when both are logged", () => {
  const flat = flatNode({ name: "details-v1-xyz", namespace: "default", workload: "details-v1", cluster: "Kubernetes", labels: { app: "details", version: "v1", "service.istio.io/canonical-name": "details" } });
  assert.deepEqual(readFlatNode(flat), {
    name: "details-v1-xyz",
    namespace: "default",
    service: "details",
    workload: "details-v1",
    cluster: "Kubernetes",
    version: "v1",
    labels: { app: "details", version: "v1", "service.istio.io/canonical-name": "details" },
  });
  const bytesValue = Buffer.concat([Buffer.from([0x0a]), varint(flat.length), Buffer.from(flat)]);
  const wasmPeer = { type_url: "type.googleapis.com/google.protobuf.BytesValue", value: bytesValue };
  const message = streamMessage({
    http: [
      httpEntry({ startTimeMs: 0, method: "GET", authority: "details", path: "/a", extraFilterState: { "wasm.upstream_peer": wasmPeer, "wasm.upstream_peer_id": { type_url: "type.googleapis.com/google.protobuf.StringValue", value: Buffer.from([0x0a, 0x07, ...Buffer.from("unknown")]) } } }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "details", path: "/b", extraFilterState: { "wasm.upstream_peer": wasmPeer }, upstreamPeer: { name: "from-struct", namespace: "default" } }),
    ],
  });
  const decoded = decodeAlsMessage(protocol.encode(message, "v3"), new DecoderMemo());
  assert.equal(decoded.badEntries, 0);
  assert.equal(decoded.entries[0]?.upstreamPeer?.name, "details-v1-xyz");
  assert.equal(decoded.entries[1]?.upstreamPeer?.name, "from-struct");
});

test("a corrupt FlatBuffer peer drops only its entry, counted as bad", () => {
  const corrupt = { type_url: "type.googleapis.com/google.protobuf.BytesValue", value: Buffer.from([0x0a, 0x04, 0xff, 0xff, 0xff, 0x7f]) };
  const message = streamMessage({
    http: [
      httpEntry({ startTimeMs: 0, method: "GET", authority: "x", path: "/bad", extraFilterState: { "wasm.downstream_peer": corrupt } }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "x", path: "/fine" }),
    ],
  });
  const decoded = decodeAlsMessage(protocol.encode(message, "v3"), new DecoderMemo());
  assert.equal(decoded.badEntries, 1);
  assert.deepEqual(decoded.entries.map((entry) => entry.path), ["/fine"]);
});

test("node metadata keys from the wire never touch an object's prototype", () => {
  const message = streamMessage({ identifier: { node: { id: "n", metadata: { fields: { ["__proto__"]: { structValue: { fields: { polluted: { boolValue: true } } } } } } } } });
  const decoded = decodeAlsMessage(protocol.encode(message, "v3"), new DecoderMemo());
  const metadata = decoded.node?.metadata as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(metadata, "__proto__")?.value, { polluted: true });
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
});

function varint(value: number): Buffer {
  const out: number[] = [];
  do {
    out.push((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
    value >>>= 7;
  } while (value > 0);
  return Buffer.from(out);
}

test("the peer memo decodes each distinct peer once and hands out frozen, shared objects", () => {
  const ratings = { name: "ratings-v1-abc", namespace: "default", service: "ratings" };
  const details = { name: "details-v1-xyz", namespace: "default", service: "details" };
  const message = streamMessage({
    http: [
      httpEntry({ startTimeMs: 0, method: "GET", authority: "ratings", path: "/1", upstreamPeer: ratings }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "ratings", path: "/2", upstreamPeer: ratings }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "details", path: "/3", upstreamPeer: details }),
    ],
  });
  const memo = new DecoderMemo();
  const first = decodeAlsMessage(protocol.encode(message, "v3"), memo).entries;
  const again = decodeAlsMessage(protocol.encode(message, "v3"), memo).entries;
  assert.equal(first[0]?.upstreamPeer, first[1]?.upstreamPeer);
  assert.equal(first[0]?.upstreamPeer, again[0]?.upstreamPeer);
  assert.notEqual(first[0]?.upstreamPeer, first[2]?.upstreamPeer);
  assert.equal(first[2]?.upstreamPeer?.name, "details-v1-xyz");
  assert.ok(Object.isFrozen(first[0]?.upstreamPeer) && Object.isFrozen(first[0]?.upstreamPeer?.labels));
});

test("Istio 1.6-1.8 metadata-exchange headers name the caller when no filter state does", async () => {
  const protobuf = (await import("protobufjs")).default;
  const structType = protobuf.Root.fromJSON(protobuf.common.get("google/protobuf/struct.proto") ?? {}).lookupType("google.protobuf.Struct");
  const exchanged = Buffer.from(structType.encode(toStruct({ NAME: "productpage-v1-abc", NAMESPACE: "default", LABELS: { app: "productpage" } })).finish()).toString("base64");
  const header = { "x-envoy-peer-metadata": exchanged, "x-envoy-peer-metadata-id": "sidecar~10.44.1.23~productpage-v1-abc.default~default.svc.cluster.local" };
  const message = streamMessage({
    http: [
      httpEntry({ startTimeMs: 0, method: "GET", authority: "reviews", path: "/a", requestHeaders: header }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "reviews", path: "/b", requestHeaders: header, downstreamPeer: { name: "from-filter-state", namespace: "default" } }),
      httpEntry({ startTimeMs: 0, method: "GET", authority: "reviews", path: "/c", requestHeaders: { "x-envoy-peer-metadata": "bm90IGEgc3RydWN0" } }),
    ],
  });
  const decoded = decodeAlsMessage(protocol.encode(message, "v3"), new DecoderMemo());
  assert.deepEqual(decoded.entries[0]?.downstreamPeer, { name: "productpage-v1-abc", namespace: "default", service: "", workload: "", cluster: "", version: "", labels: { app: "productpage" } });
  assert.equal(decoded.entries[1]?.downstreamPeer?.name, "from-filter-state");
  assert.equal(decoded.badEntries, 1, "a header that is not a Struct drops its entry, counted as bad");
  assert.deepEqual(decoded.entries.map((entry) => entry.path), ["/a", "/b"]);
});
