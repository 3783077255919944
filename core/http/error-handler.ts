import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QueueFullError } from "../queue/port.ts";
import { StorageUnavailableError } from "../storage/port.ts";
import { createError, errorBody, MeshsightError } from "./errors.ts";

/**
 * Maps every error a request can end in (ours, Fastify's own, the ports' retryable ones, and bugs) to an
 * MS_* code, so clients only ever see `{ "error": { "code", "message" } }`.
 */
export function toMeshsightError(error: FastifyError | Error, request: FastifyRequest, bodyLimitBytes: number): MeshsightError {
  if (error instanceof MeshsightError) return error;
  if (error instanceof QueueFullError) return createError("MS_OVERLOADED", { what: `queue ${error.queue}` });
  if (error instanceof StorageUnavailableError) return createError("MS_STORAGE_UNAVAILABLE", { detail: error.message });
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return createError("MS_VALIDATION_FAILED", { detail: error.message });
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return createError("MS_BODY_TOO_LARGE", { limitBytes: bodyLimitBytes });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return createError("MS_UNSUPPORTED_MEDIA_TYPE", { contentType: request.headers["content-type"] ?? "(none)", accepted: "application/json" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return createError("MS_INVALID_JSON_BODY", { detail: error.message });
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) return createError("MS_BAD_REQUEST", { detail: error.message });
  return createError("MS_INTERNAL", { requestId: request.id });
}

export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toMeshsightError(error, request, bodyLimitBytes);
    if (mapped.statusCode >= 500) request.log.error({ err: error, code: mapped.code }, "request failed");
    if (mapped.statusCode === 503) void reply.header("retry-after", "1");
    return reply.code(mapped.statusCode).send(errorBody(mapped));
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const error = createError("MS_ROUTE_NOT_FOUND", { method: request.method, url: (request.url.split("?")[0] ?? "/").slice(0, 200) });
    return reply.code(error.statusCode).send(errorBody(error));
  });
}
