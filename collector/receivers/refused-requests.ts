import type { FastifyError, FastifyInstance } from "fastify";
import { MeshsightError } from "../../core/http/errors.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";

/**
 * Counts every request a trace receiver's scope refuses before its handler decides (the handler counts its
 * own refusals: content type, malformed body, overload), by `source` and reason in
 * `meshsight_rejected_total`: a body over the limit, an encoding or gzip stream it cannot read, a bad
 * parameter, a missing or insufficient token. The reply itself stays the app's (core/http/error-handler.ts).
 */
export function countRefusedRequests(app: FastifyInstance, source: string, rejects: RejectCounter): void {
  app.setErrorHandler((error: FastifyError) => {
    rejects.reject(source, refusalReason(error), 1, error.message);
    // The app's handler answers; this scope only counts.
    throw error;
  });
  // Auth answers from its own hook, not through the error handler.
  app.addHook("onResponse", async (_request, reply) => {
    if (reply.statusCode === 401) rejects.reject(source, "unauthorized");
    else if (reply.statusCode === 403) rejects.reject(source, "forbidden");
  });
}

function refusalReason(error: FastifyError): string {
  if (error instanceof MeshsightError) return error.code.slice("MS_".length).toLowerCase().replaceAll("_", "-");
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return "body-too-large";
  // zlib's codes (Z_DATA_ERROR, ...): a body declared gzip that does not inflate (raw-body-scope.ts).
  if (typeof error.code === "string" && error.code.startsWith("Z_")) return "malformed-gzip";
  const status = error.statusCode ?? 500;
  return status >= 400 && status < 500 ? "bad-request" : "internal-error";
}
