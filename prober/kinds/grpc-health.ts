import { fileURLToPath } from "node:url";
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import { createRequire } from "node:module";
import type * as ProtoLoader from "@grpc/proto-loader";

/** grpc.health.v1 as proto-loader objects (enums as names, so statuses read "SERVING" in messages). */
export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";
}

/** Numeric ServingStatus values from health.proto, exported as grpc_healthcheck_response. */
export const SERVING_STATUS_NUMBER: Record<HealthCheckResponse["status"], number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

const HEALTH_PROTO = fileURLToPath(new URL("../proto/grpc/health/v1/health.proto", import.meta.url));

/** Loads the vendored proto; callers keep the result (it is immutable) rather than reloading per run. */
export function loadHealthService(): { Client: ServiceClientConstructor; definition: ServiceDefinition } {
  // Required here (CommonJS): only a process that runs grpc probes pays for the proto loader.
  const { loadSync } = createRequire(import.meta.url)("@grpc/proto-loader") as typeof ProtoLoader;
  const packageDefinition = loadSync(HEALTH_PROTO, { keepCase: true, enums: String, defaults: true });
  const grpcObject = loadPackageDefinition(packageDefinition);
  const health = (grpcObject.grpc as { health: { v1: { Health: ServiceClientConstructor } } }).health.v1.Health;
  return { Client: health, definition: health.service };
}
