import { z } from "zod";
import { parseDurationMs } from "../../duration.ts";
import { InvalidProbeSpecError } from "../kind.ts";
import { compileRegex, parseSpecWith } from "../spec-schema.ts";
import { parseTlsClient, TLS_CLIENT_FIELDS, type TlsClientSpec } from "../tls-client.ts";
import { compileBodyCel, type BodyCelProgram } from "./body-cel.ts";
import { COMPRESSIONS, type BodyLimits } from "./http-body.ts";
import { parseJsonPath, type JsonPath } from "./json-path.ts";
import { parseStatusRanges, type StatusRange } from "./status-codes.ts";

export interface JsonAssertion {
  path: JsonPath;
  /** Present: the value must deep-equal it. Absent: only `exists` is checked. */
  equals?: unknown;
  hasEquals: boolean;
  exists: boolean;
}

/** blackbox_exporter's HeaderMatch (config/config.go): a header's values against an unanchored pattern. */
export interface HeaderRegexCheck {
  header: string;
  pattern: RegExp;
  /** A missing header passes instead of failing. */
  allowMissing: boolean;
}

export interface HttpSpec {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  expectedStatus: StatusRange[];
  bodyRegex: RegExp | undefined;
  /** blackbox's fail_if_body_matches_regexp: the body must match none of these. */
  failIfBodyMatches: RegExp[];
  /** blackbox's fail_if_body_not_matches_regexp: the body must match each of these. */
  failIfBodyNotMatches: RegExp[];
  /** blackbox's fail_if_body_json_matches_cel: the JSON body must not make this true. */
  failIfBodyJsonMatchesCel: BodyCelProgram | undefined;
  /** blackbox's fail_if_body_json_not_matches_cel: the JSON body must make this true. */
  failIfBodyJsonNotMatchesCel: BodyCelProgram | undefined;
  /** blackbox's fail_if_header_matches: no value of the header may match. */
  failIfHeaderMatches: HeaderRegexCheck[];
  /** blackbox's fail_if_header_not_matches: some value of the header must match. */
  failIfHeaderNotMatches: HeaderRegexCheck[];
  /** The final response must not come over TLS (blackbox's fail_if_ssl) / must (fail_if_not_ssl). */
  failIfSsl: boolean;
  failIfNotSsl: boolean;
  json: JsonAssertion[];
  maxLatencyMs: number | undefined;
  followRedirects: boolean;
  maxRedirects: number;
  tlsVerify: boolean;
  tlsClient: TlsClientSpec;
  /** maxBodyBytes, compression (blackbox's) and bodySizeLimit (blackbox's body_size_limit, in bytes). */
  bodyLimits: BodyLimits;
}

const jsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

const patterns = z.array(z.string({ error: "expected a regular expression" }), { error: "expected a list of regular expressions" }).max(50).optional();
const headerChecks = z
  .array(z.strictObject({ header: z.string({ error: "expected a header name" }).min(1), regexp: z.string({ error: "expected a regular expression" }), allowMissing: z.boolean({ error: "expected true or false" }).optional() }), { error: "expected a list of { header, regexp, allowMissing }" })
  .max(50)
  .optional();

const schema = z.strictObject({
  ...TLS_CLIENT_FIELDS,
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], { error: "expected GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS" }).optional(),
  headers: z.record(z.string(), z.string({ error: "header values are strings" }), { error: "expected a mapping of header names to values" }).optional(),
  body: z.string({ error: "expected the request body as a string" }).optional(),
  expectedStatus: z.array(z.union([z.int(), z.string()]), { error: 'expected a list such as [200, "2xx", "300-302"]' }).min(1).optional(),
  bodyRegex: z.string({ error: "expected a regular expression" }).optional(),
  failIfBodyMatches: patterns,
  failIfBodyNotMatches: patterns,
  failIfBodyJsonMatchesCel: z.string({ error: "expected a CEL expression" }).optional(),
  failIfBodyJsonNotMatchesCel: z.string({ error: "expected a CEL expression" }).optional(),
  failIfHeaderMatches: headerChecks,
  failIfHeaderNotMatches: headerChecks,
  failIfSsl: z.boolean({ error: "expected true or false" }).optional(),
  failIfNotSsl: z.boolean({ error: "expected true or false" }).optional(),
  json: z
    .array(
      z.strictObject({
        path: z.string({ error: 'expected a JSON path such as "$.status"' }),
        equals: jsonValue.optional(),
        exists: z.boolean({ error: "expected true or false" }).optional(),
      }),
      { error: 'expected a list of { path, equals } or { path, exists }' },
    )
    .max(20)
    .optional(),
  maxLatency: z.string({ error: 'expected a duration such as "500ms"' }).optional(),
  followRedirects: z.boolean({ error: "expected true or false" }).optional(),
  maxRedirects: z.int({ error: "expected an integer 0..30" }).min(0).max(30).optional(),
  tlsVerify: z.boolean({ error: "expected true or false" }).optional(),
  maxBodyBytes: z.int({ error: "expected an integer 1..16777216" }).min(1).max(16 * 1024 * 1024).optional(),
  compression: z.enum(COMPRESSIONS, { error: `expected one of ${COMPRESSIONS.join(", ")}` }).optional(),
  bodySizeLimit: z.int({ error: "expected a number of bytes" }).min(1).optional(),
});

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function parseHttpSpec(raw: unknown): HttpSpec {
  const spec = parseSpecWith(schema, raw);
  let maxLatencyMs: number | undefined;
  if (spec.maxLatency !== undefined) {
    maxLatencyMs = parseDurationMs(spec.maxLatency) ?? undefined;
    if (maxLatencyMs === undefined) throw new InvalidProbeSpecError(`maxLatency: expected a duration such as "500ms", got ${JSON.stringify(spec.maxLatency)}`);
  }
  checkAcceptEncoding(spec.headers ?? {}, spec.compression);
  return {
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.body,
    expectedStatus: parseStatusRanges(spec.expectedStatus ?? ["2xx"], "expectedStatus"),
    bodyRegex: spec.bodyRegex === undefined ? undefined : compileRegex(spec.bodyRegex, "bodyRegex"),
    failIfBodyMatches: (spec.failIfBodyMatches ?? []).map((pattern, index) => compileRegex(pattern, `failIfBodyMatches.${index}`)),
    failIfBodyNotMatches: (spec.failIfBodyNotMatches ?? []).map((pattern, index) => compileRegex(pattern, `failIfBodyNotMatches.${index}`)),
    failIfBodyJsonMatchesCel: spec.failIfBodyJsonMatchesCel === undefined ? undefined : compileBodyCel(spec.failIfBodyJsonMatchesCel, "failIfBodyJsonMatchesCel"),
    failIfBodyJsonNotMatchesCel: spec.failIfBodyJsonNotMatchesCel === undefined ? undefined : compileBodyCel(spec.failIfBodyJsonNotMatchesCel, "failIfBodyJsonNotMatchesCel"),
    failIfHeaderMatches: toHeaderChecks(spec.failIfHeaderMatches, "failIfHeaderMatches"),
    failIfHeaderNotMatches: toHeaderChecks(spec.failIfHeaderNotMatches, "failIfHeaderNotMatches"),
    failIfSsl: spec.failIfSsl ?? false,
    failIfNotSsl: spec.failIfNotSsl ?? false,
    json: (spec.json ?? []).map((assertion, index) => ({
      path: parseJsonPath(assertion.path, `json.${index}.path`),
      equals: assertion.equals,
      hasEquals: Object.hasOwn(assertion, "equals"),
      exists: assertion.exists ?? true,
    })),
    maxLatencyMs,
    followRedirects: spec.followRedirects ?? true,
    maxRedirects: spec.maxRedirects ?? 10,
    tlsVerify: spec.tlsVerify ?? true,
    tlsClient: parseTlsClient(spec),
    bodyLimits: { maxBodyBytes: spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, compression: spec.compression, bodySizeLimit: spec.bodySizeLimit },
  };
}

function toHeaderChecks(checks: z.infer<typeof headerChecks>, field: string): HeaderRegexCheck[] {
  return (checks ?? []).map((check, index) => ({ header: check.header, pattern: compileRegex(check.regexp, `${field}.${index}.regexp`), allowMissing: check.allowMissing ?? false }));
}

/**
 * blackbox_exporter refuses a module whose Accept-Encoding header does not accept its `compression`
 * (config/config.go isCompressionAcceptEncodingValid): the server would be asked not to send what the
 * probe then insists on decoding. The encoding must be listed (or `*`) with a quality above 0; the
 * entries are taken best quality first and the first naming it decides.
 */
function checkAcceptEncoding(headers: Record<string, string>, compression: string | undefined): void {
  const accept = Object.entries(headers).find(([name]) => name.toLowerCase() === "accept-encoding")?.[1];
  if (compression === undefined || accept === undefined || accept === "") return;
  const entries = accept.split(",").map((part) => {
    const separator = part.lastIndexOf(";");
    if (separator === -1) return { encoding: part.trim(), quality: 1 };
    const quality = Number(part.slice(separator + 1).trim().replace(/^q=/, ""));
    return { encoding: part.slice(0, separator).trim(), quality: Number.isFinite(quality) ? Math.round(quality * 1000) / 1000 : 0 };
  });
  entries.sort((a, b) => b.quality - a.quality);
  const deciding = entries.find((entry) => entry.encoding === compression || entry.encoding === "*");
  if (deciding === undefined || deciding.quality <= 0) {
    throw new InvalidProbeSpecError(`headers: Accept-Encoding ${JSON.stringify(accept)} does not accept compression ${compression}`);
  }
}
