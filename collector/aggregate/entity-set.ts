import type { EntityKind, EntityRecord } from "../../core/model/dimensions.ts";

/** Entity rows gathered during one drain, one per kind/service/name, keeping the latest sighting. */
export class EntitySet {
  private readonly records = new Map<string, EntityRecord>();

  add(kind: EntityKind, service: string, name: string, lastSeenMs: number, attributes: Record<string, string>): void {
    const key = `${kind}\u0000${service}\u0000${name}`;
    const known = this.records.get(key);
    if (known === undefined) {
      this.records.set(key, { kind, service, name, layer: "MESH", attributes, lastSeenMs });
      return;
    }
    if (lastSeenMs > known.lastSeenMs) known.lastSeenMs = lastSeenMs;
    if (Object.keys(known.attributes).length === 0) known.attributes = attributes;
  }

  toArray(): EntityRecord[] {
    return [...this.records.values()];
  }
}
