/**
 * Every error meshsight's HTTP API returns, in one place (Fastify's lib/errors.js style): a stable
 * `MS_*` code clients can switch on, an HTTP status, and a message template whose `{name}` placeholders
 * are filled when the error is created. docs/errors.md lists them all; a test keeps the two in sync.
 * Codes are never renamed or reused; add new ones at the end of their group.
 */
export const ERROR_DEFINITIONS = {
  // Request shape: the client sent something the API cannot take; retrying the same request will fail again.
  MS_ROUTE_NOT_FOUND: { status: 404, message: "no route for {method} {url}" },
  MS_VALIDATION_FAILED: { status: 400, message: "invalid request: {detail}" },
  MS_INVALID_JSON_BODY: { status: 400, message: "request body is not valid JSON: {detail}" },
  MS_BODY_TOO_LARGE: { status: 413, message: "request body is larger than the limit of {limitBytes} bytes" },
  MS_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "unsupported content type {contentType}; send {accepted}" },
  MS_BAD_REQUEST: { status: 400, message: "bad request: {detail}" },
  MS_INVALID_PARAMETER: { status: 400, message: "invalid parameter {name}: {detail}" },
  MS_NOT_FOUND: { status: 404, message: "{kind} {name} not found" },
  MS_UNAUTHORIZED: { status: 401, message: "missing or invalid bearer token" },
  MS_UNSUPPORTED_CONTENT_ENCODING: { status: 415, message: "unsupported content encoding {encoding}; send {accepted}" },
  MS_INVALID_GZIP_BODY: { status: 400, message: "the gzip body is malformed: {detail}" },
  MS_FORBIDDEN: { status: 403, message: "token {principal} lacks the scope {scope} this API needs" },
  MS_INVALID_ALARM_RULES: { status: 400, message: "alarm rules rejected, the previous rules stay in force: {detail}" },
  MS_ACTION_NOT_APPROVABLE: { status: 409, message: "action cannot be approved: {detail}" },
  // Server state: retrying later can help.
  MS_NOT_READY: { status: 503, message: "not ready: {detail}" },
  MS_OVERLOADED: { status: 503, message: "{what} is over capacity; retry later" },
  MS_STORAGE_UNAVAILABLE: { status: 503, message: "storage is unavailable: {detail}" },
  // 429, not 503: the receiver itself is healthy, this one batch was refused whole and can be resent as is.
  MS_INGEST_BUSY: { status: 429, message: "the collector is over capacity and took none of these lines; retry later" },
  // Bugs: the log line with the same request id has the details.
  MS_INTERNAL: { status: 500, message: "internal error; see the server log for request {requestId}" },
} as const satisfies Record<`MS_${string}`, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_DEFINITIONS;

/** The placeholder names of a message template: "no route for {method} {url}" -> "method" | "url". */
type Placeholders<Template extends string> = Template extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

export type ErrorParams<Code extends ErrorCode> = Record<Placeholders<(typeof ERROR_DEFINITIONS)[Code]["message"]>, string | number>;

export class MeshsightError extends Error {
  override readonly name = "MeshsightError";
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Creates the error for `code`; the compiler checks that every placeholder of its template gets a value. */
export function createError<Code extends ErrorCode>(code: Code, ...[params]: keyof ErrorParams<Code> extends never ? [] : [ErrorParams<Code>]): MeshsightError {
  const definition = ERROR_DEFINITIONS[code];
  const values: Record<string, string | number> = params ?? {};
  const message = definition.message.replace(/\{(\w+)\}/g, (_placeholder, name: string) => String(values[name] ?? `{${name}}`));
  return new MeshsightError(code, definition.status, message);
}

/** The JSON body of every error reply. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(error: MeshsightError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}
