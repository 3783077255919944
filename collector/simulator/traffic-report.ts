/**
 * What the simulator sent, counted in meshsight's own dimension names (docs/architecture.md, "Dimensions"),
 * so tests can compare it with what meshsight reports: services, instances and endpoints from
 * server-side records only; relations from both sides; errors by meshsight's rule (server side status
 * >= 500 or a response flag, client side status >= 400 or a response flag).
 */
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { BookinfoPod } from "./bookinfo-mesh.ts";

export interface TrafficCounts {
  calls: number;
  errors: number;
}

export interface SimulationReport {
  /** Ingress requests simulated. */
  requests: number;
  /** Messages written, and entries in them, over all streams. */
  messages: number;
  entries: { http: number; tcp: number };
  /** Entries per proxy stream, by pod name. */
  entriesByProxy: Record<string, number>;
  /** By `<service>.<namespace>`. */
  services: Record<string, TrafficCounts>;
  /** By `<pod>.<namespace>`. */
  instances: Record<string, TrafficCounts>;
  /** By `<service>.<namespace> <METHOD>:<path>`. */
  endpoints: Record<string, TrafficCounts>;
  /** By `<source> -> <destination>`; the browser outside the mesh is UNKNOWN. */
  relations: Record<string, { client: TrafficCounts; server: TrafficCounts }>;
  firstStartMs: number;
  lastStartMs: number;
  /** Streams the receiver ended with an error, as `<pod>: <gRPC status details>`. */
  streamErrors: string[];
}

export function emptyReport(): SimulationReport {
  return {
    requests: 0,
    messages: 0,
    entries: { http: 0, tcp: 0 },
    entriesByProxy: {},
    services: {},
    instances: {},
    endpoints: {},
    relations: {},
    firstStartMs: Number.POSITIVE_INFINITY,
    lastStartMs: Number.NEGATIVE_INFINITY,
    streamErrors: [],
  };
}

export const serviceName = (pod: BookinfoPod): string => `${pod.service}.${pod.namespace}`;
export const instanceName = (pod: BookinfoPod): string => `${pod.name}.${pod.namespace}`;

function bump(table: Record<string, TrafficCounts>, key: string, isError: boolean): void {
  const counts = (table[key] ??= { calls: 0, errors: 0 });
  counts.calls++;
  if (isError) counts.errors++;
}

function relation(report: SimulationReport, source: string, destination: string): { client: TrafficCounts; server: TrafficCounts } {
  return (report.relations[`${source} -> ${destination}`] ??= { client: { calls: 0, errors: 0 }, server: { calls: 0, errors: 0 } });
}

/** One server-side record: the callee's sidecar inbound entry, or a gateway's inbound leg. */
export function countServerSide(
  report: SimulationReport,
  call: { source: BookinfoPod | null; destination: BookinfoPod; endpoint: string; status: number; flags: readonly string[] },
): void {
  const isError = call.status >= 500 || call.flags.length > 0;
  const destination = serviceName(call.destination);
  bump(report.services, destination, isError);
  bump(report.instances, instanceName(call.destination), isError);
  if (call.endpoint !== "") bump(report.endpoints, `${destination} ${call.endpoint}`, isError);
  const counts = relation(report, call.source === null ? UNKNOWN_SERVICE : serviceName(call.source), destination).server;
  counts.calls++;
  if (isError) counts.errors++;
}

/** One client-side record: the caller's sidecar outbound entry, or a gateway's outbound leg. */
export function countClientSide(report: SimulationReport, call: { source: BookinfoPod; destination: BookinfoPod; status: number; flags: readonly string[] }): void {
  const isError = call.status >= 400 || call.flags.length > 0;
  const counts = relation(report, serviceName(call.source), serviceName(call.destination)).client;
  counts.calls++;
  if (isError) counts.errors++;
}
