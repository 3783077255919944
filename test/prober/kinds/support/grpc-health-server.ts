import { Server, status as GrpcStatus, type sendUnaryData, type ServerCredentials, type ServerUnaryCall } from "@grpc/grpc-js";
import { loadHealthService, type HealthCheckRequest, type HealthCheckResponse } from "../../../../prober/kinds/grpc-health.ts";

export type Statuses = Map<string, HealthCheckResponse["status"]>;

/**
 * A real grpc-js server implementing Health/Check from the vendored proto; `hang` never answers. Each
 * call's metadata (as grpc-js's getMap gives it) is pushed to `heard` when given.
 */
export async function startHealthServer(statuses: Statuses, credentials: ServerCredentials, heard?: Array<Record<string, unknown>>): Promise<{ target: string; close: () => void }> {
  const server = new Server();
  server.addService(loadHealthService().definition, {
    Check(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) {
      heard?.push(call.metadata.getMap());
      if (call.request.service === "hang") return;
      const status = statuses.get(call.request.service);
      if (status === undefined) callback({ code: GrpcStatus.NOT_FOUND, details: "unknown service" });
      else callback(null, { status });
    },
    Watch() {
      throw new Error("not used by the probe");
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  return { target: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
