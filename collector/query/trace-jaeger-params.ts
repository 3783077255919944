import type { TraceQuery } from "../../core/storage/port.ts";

/**
 * Query parameters of Jaeger's HTTP API as its query service parses them
 * (https://github.com/jaegertracing/jaeger/blob/v2.20.0/cmd/jaeger/internal/extension/jaegerquery/internal/query_parser.go):
 * trace search times are Unix microseconds, dependency times milliseconds, durations Go duration strings
 * (`500us`, `1.2s`), `tags` a JSON object of strings and `tag` a `key:value` pair. Messages follow Jaeger's.
 */

export type QueryString = Record<string, string | undefined>;

/** A parameter Jaeger would refuse: answered 400 in Jaeger's error envelope. */
export class JaegerParameterError extends Error {}

/** The query service's default search window, which the services and operations lists use too. */
export const DEFAULT_SEARCH_LOOKBACK_MS = 48 * 3_600_000;
const DEFAULT_DEPENDENCY_LOOKBACK_MS = 86_400_000;
const MAX_LOOKBACK_MS = 400 * 86_400_000;
const DEFAULT_LIMIT = 100;
/** Jaeger takes any limit; each trace found is one more storage read here, so searches stop at this many. */
const MAX_LIMIT = 1000;

const parseError = (name: string, detail: string): JaegerParameterError => new JaegerParameterError(`unable to parse param '${name}': ${detail}`);

/** strconv.ParseInt's syntax: an optional sign and decimal digits. */
function integerParam(query: QueryString, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!/^[+-]?\d{1,18}$/.test(value) || !Number.isSafeInteger(parsed)) throw parseError(name, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return parsed;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;

/** Go's time.ParseDuration, in milliseconds: `1h15m`, `1.5s`, `300us`, `0`; an optional sign. */
export function goDurationMs(value: string): number | null {
  let rest = value;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return null;
  let totalNs = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < rest.length) {
    const match = DURATION_PART.exec(rest);
    if (match === null) return null;
    totalNs += Number(match[1]) * (UNIT_NS[match[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(totalNs) ? (sign * totalNs) / 1e6 : null;
}

function durationParam(query: QueryString, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  const ms = goDurationMs(value);
  if (ms === null) throw parseError(name, `time: invalid duration ${JSON.stringify(value)}`);
  if (ms < 0) throw parseError(name, "must not be negative");
  return ms;
}

/** `tags={"k":"v"}` and `tag=k:v` merged, as Jaeger's parseTags does. */
function tagsParam(query: QueryString): Record<string, string> {
  const tags: Record<string, string> = {};
  const simple = query.tag;
  if (simple !== undefined && simple !== "") {
    const colon = simple.indexOf(":");
    if (colon < 0) throw new JaegerParameterError(`malformed 'tag' parameter, expecting key:value, received: ${simple}`);
    tags[simple.slice(0, colon)] = simple.slice(colon + 1);
  }
  const json = query.tags;
  if (json !== undefined && json !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new JaegerParameterError(`malformed 'tags' parameter, cannot unmarshal JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === "string")) {
      throw new JaegerParameterError("malformed 'tags' parameter, cannot unmarshal JSON: expected an object of string values");
    }
    Object.assign(tags, parsed);
  }
  return tags;
}

/** The window a search reads: `start`/`end` in Unix microseconds, by default the last 48 hours. */
function searchWindow(query: QueryString, nowMs: number): { fromMs: number; toMs: number } {
  const startUs = integerParam(query, "start");
  const endUs = integerParam(query, "end");
  const toMs = endUs === undefined ? nowMs : Math.floor(endUs / 1000) + 1;
  const fromMs = startUs === undefined ? nowMs - DEFAULT_SEARCH_LOOKBACK_MS : Math.floor(startUs / 1000);
  return { fromMs, toMs };
}

/**
 * GET /api/traces as a storage query; `service` is required (the traceID form is handled by the route).
 * `lookback` is not read, as Jaeger ignores it too. `error=true` among the tags selects failed traces:
 * errors are the span status here, not an attribute.
 */
export function jaegerTraceQuery(query: QueryString, nowMs: number): TraceQuery {
  const service = query.service;
  if (service === undefined || service === "") throw new JaegerParameterError("parameter 'service' is required");
  const { fromMs, toMs } = searchWindow(query, nowMs);
  const tags = tagsParam(query);
  const limit = integerParam(query, "limit");
  const minDurationMs = durationParam(query, "minDuration");
  const maxDurationMs = durationParam(query, "maxDuration");
  if (minDurationMs !== undefined && maxDurationMs !== undefined && minDurationMs > 0 && maxDurationMs > 0 && maxDurationMs < minDurationMs) {
    throw new JaegerParameterError("'maxDuration' should be greater than 'minDuration'");
  }
  const result: TraceQuery = { fromMs, toMs, service, limit: limit === undefined || limit <= 0 ? DEFAULT_LIMIT : Math.min(limit, MAX_LIMIT) };
  if (query.operation !== undefined && query.operation !== "") result.name = query.operation;
  if (minDurationMs !== undefined && minDurationMs > 0) result.minDurationMs = minDurationMs;
  if (maxDurationMs !== undefined && maxDurationMs > 0) result.maxDurationMs = maxDurationMs;
  if (tags.error === "true") {
    result.onlyErrors = true;
    delete tags.error;
  }
  if (Object.keys(tags).length > 0) result.attributes = tags;
  return result;
}

/** GET /api/dependencies: `endTs` (default now) and `lookback` (default one day), both milliseconds. */
export function dependencyWindow(query: QueryString, nowMs: number): { fromMs: number; toMs: number } {
  const endTs = integerParam(query, "endTs") ?? nowMs;
  const lookback = integerParam(query, "lookback") ?? DEFAULT_DEPENDENCY_LOOKBACK_MS;
  if (lookback > MAX_LOOKBACK_MS) throw parseError("lookback", "at most 400 days");
  return { fromMs: endTs - lookback, toMs: endTs + 1 };
}

/** The optional `start`/`end` of GET /api/traces/{id}: checked like Jaeger does, not needed to find the trace. */
export function checkTraceTimeParams(query: QueryString): void {
  integerParam(query, "start");
  integerParam(query, "end");
}

/** Jaeger takes a trace id of up to 32 hex digits (shorter ones are left-padded); stored ids have 32. */
export function storedTraceId(value: string): string | null {
  return /^[0-9a-fA-F]{1,32}$/.test(value) ? value.toLowerCase().padStart(32, "0") : null;
}
