import { createError, type MeshsightError } from "../../../core/http/errors.ts";

/**
 * The HTTP errors of the log-ingest route, all built from the registry in core/http/errors.ts so every
 * MS_* code, status and message lives in one place (and in docs/errors.md).
 */
export type LogIngestError = MeshsightError;

/** What the route accepts, named in the 415 replies so the client knows what to send instead. */
const ACCEPTED_MEDIA_TYPES_HINT = "newline-delimited lines as text/plain or application/x-ndjson";
const ACCEPTED_ENCODINGS_HINT = "gzip or none";

export function bodyTooLarge(limitBytes: number): LogIngestError {
  return createError("MS_BODY_TOO_LARGE", { limitBytes });
}

export function badRequest(detail: string): LogIngestError {
  return createError("MS_BAD_REQUEST", { detail });
}

export function invalidParameter(name: string, detail: string): LogIngestError {
  return createError("MS_INVALID_PARAMETER", { name, detail });
}

export function unsupportedMediaType(contentType: string): LogIngestError {
  return createError("MS_UNSUPPORTED_MEDIA_TYPE", { contentType: JSON.stringify(contentType), accepted: ACCEPTED_MEDIA_TYPES_HINT });
}

export function unsupportedEncoding(encoding: string): LogIngestError {
  return createError("MS_UNSUPPORTED_CONTENT_ENCODING", { encoding: JSON.stringify(encoding), accepted: ACCEPTED_ENCODINGS_HINT });
}

export function invalidGzip(detail: string): LogIngestError {
  return createError("MS_INVALID_GZIP_BODY", { detail });
}

export function ingestBusy(): LogIngestError {
  return createError("MS_INGEST_BUSY");
}
