import { createError, type ErrorCode, type MeshsightError } from "../../../core/http/errors.ts";

/**
 * The HTTP errors of the log-ingest route. Codes core/http/errors.ts defines come from it (createError);
 * three it does not define yet are local until added there with the same code and status:
 * MS_INGEST_BUSY (429), MS_INVALID_GZIP_BODY (400), MS_UNSUPPORTED_CONTENT_ENCODING (415). The registry's
 * MS_UNSUPPORTED_MEDIA_TYPE message says "send application/json", wrong for this route, so that code is
 * used with a message of its own.
 */
export type LogIngestErrorCode = ErrorCode | "MS_INGEST_BUSY" | "MS_INVALID_GZIP_BODY" | "MS_UNSUPPORTED_CONTENT_ENCODING";

/** An error that becomes `{ "error": { "code", "message" } }` with its status. */
export class LogIngestError extends Error {
  override readonly name = "LogIngestError";
  constructor(
    readonly code: LogIngestErrorCode,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

function fromRegistry(error: MeshsightError): LogIngestError {
  return new LogIngestError(error.code, error.statusCode, error.message);
}

export function bodyTooLarge(limitBytes: number): LogIngestError {
  return fromRegistry(createError("MS_BODY_TOO_LARGE", { limitBytes }));
}

export function badRequest(detail: string): LogIngestError {
  return fromRegistry(createError("MS_BAD_REQUEST", { detail }));
}

export function invalidParameter(name: string, detail: string): LogIngestError {
  return fromRegistry(createError("MS_INVALID_PARAMETER", { name, detail }));
}

export function unsupportedMediaType(contentType: string): LogIngestError {
  return new LogIngestError(
    "MS_UNSUPPORTED_MEDIA_TYPE",
    415,
    `unsupported content type ${JSON.stringify(contentType)}; send newline-delimited lines as text/plain or application/x-ndjson`,
  );
}

export function unsupportedEncoding(encoding: string): LogIngestError {
  return new LogIngestError("MS_UNSUPPORTED_CONTENT_ENCODING", 415, `unsupported content encoding ${JSON.stringify(encoding)}; send gzip or none`);
}

export function invalidGzip(detail: string): LogIngestError {
  return new LogIngestError("MS_INVALID_GZIP_BODY", 400, `the gzip body is malformed: ${detail}`);
}

export function ingestBusy(): LogIngestError {
  return new LogIngestError("MS_INGEST_BUSY", 429, "the collector is over capacity and took none of these lines; retry later");
}
