import { pino } from "pino";
import { Registry } from "prom-client";
import type { MeshCall } from "../../../core/model/access-log.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";

/** A server-side HTTP call from productpage to reviews, 200 in 10 ms; override what a test is about. */
export function meshCall(overrides: Partial<MeshCall> = {}): MeshCall {
  return {
    timeMs: Date.UTC(2024, 4, 1, 12, 0, 10),
    detectPoint: "server",
    source: { service: "productpage.default", instance: "productpage-v1-abc.default" },
    callerLookup: "none",
    destination: { service: "reviews.default", instance: "reviews-v1-xyz.default" },
    endpoint: "GET:/reviews/{id}",
    component: "http",
    responseCode: 200,
    isError: false,
    latencyMs: 10,
    bytesIn: 100,
    bytesOut: 1000,
    requestId: "req-1",
    traceId: "",
    responseFlags: "",
    ...overrides,
  };
}

export interface Telemetry {
  registry: Registry;
  rejects: RejectCounter;
  /** Value of meshsight_rejected_total for one source and reason. */
  rejected(source: string, reason: string): Promise<number>;
}

export function telemetry(): Telemetry {
  const registry = new Registry();
  const rejects = new RejectCounter(registry, pino({ level: "silent" }));
  return {
    registry,
    rejects,
    async rejected(source, reason) {
      const metric = await registry.getSingleMetric("meshsight_rejected_total")?.get();
      return metric?.values.find((value) => value.labels.source === source && value.labels.reason === reason)?.value ?? 0;
    },
  };
}
