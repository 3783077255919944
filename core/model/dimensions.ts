/**
 * The dimensions every record is mapped to (docs/architecture.md, "Dimensions"). Names follow SkyWalking's
 * mesh analysis: service `<name>.<namespace>`, instance `<pod>.<namespace>`, endpoint `METHOD:/path`.
 */

/** Where a service was seen from; SkyWalking's layers, so users moving over see the same grouping. */
export type Layer = "MESH" | "MESH_DP" | "GENERAL" | "PROBE";

/** Which side of a call produced the record: the caller's proxy (client) or the callee's (server). */
export type DetectPoint = "client" | "server";

/** The protocol of a call, as shown on topology edges. */
export type Component = "http" | "grpc" | "tcp" | "tls" | "mtls";

/** The name used when a peer cannot be resolved, as SkyWalking does. */
export const UNKNOWN_SERVICE = "UNKNOWN";

export interface ServiceRef {
  service: string;
  /** Empty when the instance is unknown. */
  instance: string;
}

/** What kind of thing an entity row describes. */
export type EntityKind = "service" | "instance" | "endpoint";

/** A service, instance or endpoint as last seen, with what is known about it (pod IP, node, version...). */
export interface EntityRecord {
  kind: EntityKind;
  service: string;
  /** Empty for a service; the instance or endpoint name otherwise. */
  name: string;
  layer: Layer;
  attributes: Record<string, string>;
  lastSeenMs: number;
}
