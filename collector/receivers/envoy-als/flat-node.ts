/**
 * Reads Istio's `Wasm.Common.FlatNode` FlatBuffer, the peer metadata Istio <= 1.23 logs under
 * `wasm.downstream_peer` / `wasm.upstream_peer` (schema: istio/proxy `extensions/common/node_info.fbs`).
 * A hand-written, bounds-checked reader for the few fields meshsight uses: every offset is checked
 * against the buffer, so a corrupt FlatBuffer throws instead of reading elsewhere.
 */
import type { PeerMetadata } from "../../../core/model/access-log.ts";

/** Field slots in `table FlatNode` (declaration order in node_info.fbs). */
const FLAT_NODE_NAME = 0;
const FLAT_NODE_NAMESPACE = 1;
const FLAT_NODE_LABELS = 2;
const FLAT_NODE_WORKLOAD_NAME = 4;
const FLAT_NODE_CLUSTER_ID = 9;
/** Field slots in `table KeyVal`. */
const KEY_VAL_KEY = 0;
const KEY_VAL_VALUE = 1;

const CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";
const CANONICAL_REVISION_LABEL = "service.istio.io/canonical-revision";
/** A peer's labels, not a data set: more than this is a corrupt buffer. */
const MAX_LABELS = 1024;

class FlatBufferView {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(offset: number, size: number): void {
    if (offset < 0 || offset + size > this.bytes.length) throw new RangeError(`FlatBuffer offset ${offset}+${size} outside ${this.bytes.length} bytes`);
  }

  uint32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, true);
  }

  /** Position of the root table. */
  root(): number {
    return this.uint32(0);
  }

  /** Absolute position of a table field's value, or -1 when the field is absent. */
  fieldPosition(table: number, slot: number): number {
    this.check(table, 4);
    const vtable = table - this.view.getInt32(table, true);
    this.check(vtable, 4);
    const vtableSize = this.view.getUint16(vtable, true);
    const entry = 4 + slot * 2;
    if (entry + 2 > vtableSize) return -1;
    this.check(vtable + entry, 2);
    const fieldOffset = this.view.getUint16(vtable + entry, true);
    return fieldOffset === 0 ? -1 : table + fieldOffset;
  }

  /** Follows a uoffset stored at `position` (strings, vectors, sub-tables are stored by reference). */
  deref(position: number): number {
    return position + this.uint32(position);
  }

  string(table: number, slot: number): string {
    const position = this.fieldPosition(table, slot);
    return position < 0 ? "" : this.stringAt(this.deref(position));
  }

  stringAt(position: number): string {
    const length = this.uint32(position);
    this.check(position + 4, length);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + position + 4, length).toString("utf8");
  }

  /** Element positions (already dereferenced) of a vector of tables. */
  tableVector(table: number, slot: number): number[] {
    const position = this.fieldPosition(table, slot);
    if (position < 0) return [];
    const vector = this.deref(position);
    const count = this.uint32(vector);
    if (count > MAX_LABELS) throw new RangeError(`FlatBuffer vector of ${count} elements`);
    const elements: number[] = [];
    for (let i = 0; i < count; i++) elements.push(this.deref(vector + 4 + i * 4));
    return elements;
  }
}

/** Decodes a FlatNode into PeerMetadata; throws on a corrupt buffer. */
export function readFlatNode(bytes: Uint8Array): PeerMetadata {
  const flat = new FlatBufferView(bytes);
  const node = flat.root();
  const labels: Record<string, string> = {};
  for (const keyVal of flat.tableVector(node, FLAT_NODE_LABELS)) {
    labels[flat.string(keyVal, KEY_VAL_KEY)] = flat.string(keyVal, KEY_VAL_VALUE);
  }
  return {
    name: flat.string(node, FLAT_NODE_NAME),
    namespace: flat.string(node, FLAT_NODE_NAMESPACE),
    service: labels[CANONICAL_NAME_LABEL] ?? "",
    workload: flat.string(node, FLAT_NODE_WORKLOAD_NAME),
    cluster: flat.string(node, FLAT_NODE_CLUSTER_ID),
    version: labels["version"] ?? labels[CANONICAL_REVISION_LABEL] ?? "",
    labels,
  };
}
