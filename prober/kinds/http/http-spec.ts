import { z } from "zod";
import { parseDurationMs } from "../../duration.ts";
import { InvalidProbeSpecError } from "../kind.ts";
import { compileRegex, parseSpecWith } from "../spec-schema.ts";
import { parseJsonPath, type JsonPath } from "./json-path.ts";
import { parseStatusRanges, type StatusRange } from "./status-codes.ts";

export interface JsonAssertion {
  path: JsonPath;
  /** Present: the value must deep-equal it. Absent: only `exists` is checked. */
  equals?: unknown;
  hasEquals: boolean;
  exists: boolean;
}

export interface HttpSpec {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  expectedStatus: StatusRange[];
  bodyRegex: RegExp | undefined;
  json: JsonAssertion[];
  maxLatencyMs: number | undefined;
  followRedirects: boolean;
  maxRedirects: number;
  tlsVerify: boolean;
  maxBodyBytes: number;
}

const jsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

const schema = z.strictObject({
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], { error: "expected GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS" }).optional(),
  headers: z.record(z.string(), z.string({ error: "header values are strings" }), { error: "expected a mapping of header names to values" }).optional(),
  body: z.string({ error: "expected the request body as a string" }).optional(),
  expectedStatus: z.array(z.union([z.int(), z.string()]), { error: 'expected a list such as [200, "2xx", "300-302"]' }).min(1).optional(),
  bodyRegex: z.string({ error: "expected a regular expression" }).optional(),
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
});

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function parseHttpSpec(raw: unknown): HttpSpec {
  const spec = parseSpecWith(schema, raw);
  let maxLatencyMs: number | undefined;
  if (spec.maxLatency !== undefined) {
    maxLatencyMs = parseDurationMs(spec.maxLatency) ?? undefined;
    if (maxLatencyMs === undefined) throw new InvalidProbeSpecError(`maxLatency: expected a duration such as "500ms", got ${JSON.stringify(spec.maxLatency)}`);
  }
  return {
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.body,
    expectedStatus: parseStatusRanges(spec.expectedStatus ?? ["2xx"], "expectedStatus"),
    bodyRegex: spec.bodyRegex === undefined ? undefined : compileRegex(spec.bodyRegex, "bodyRegex"),
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
    maxBodyBytes: spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
}
