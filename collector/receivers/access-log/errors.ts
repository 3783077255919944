/**
 * The HTTP errors of the log-ingest route. Codes that core/http/errors.ts (the project-wide MS_* registry,
 * still being written) already defines keep its names and statuses; MS_INGEST_BUSY, MS_INVALID_GZIP_BODY and
 * MS_UNSUPPORTED_CONTENT_ENCODING are meant to move there unchanged, so clients see the final codes now.
 */
export interface LogIngestErrorCode {
  code: string;
  status: number;
}

export const LOG_INGEST_ERRORS = {
  unsupportedMediaType: { code: "MS_UNSUPPORTED_MEDIA_TYPE", status: 415 },
  unsupportedEncoding: { code: "MS_UNSUPPORTED_CONTENT_ENCODING", status: 415 },
  bodyTooLarge: { code: "MS_BODY_TOO_LARGE", status: 413 },
  badGzip: { code: "MS_INVALID_GZIP_BODY", status: 400 },
  badRequest: { code: "MS_BAD_REQUEST", status: 400 },
  invalidParameter: { code: "MS_INVALID_PARAMETER", status: 400 },
  ingestBusy: { code: "MS_INGEST_BUSY", status: 429 },
} as const satisfies Record<string, LogIngestErrorCode>;

/** An error that becomes `{ "error": { "code", "message" } }` with its status. */
export class LogIngestError extends Error {
  constructor(
    readonly kind: LogIngestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "LogIngestError";
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.kind.code, message: this.message } };
  }
}
