import { createError, type MeshsightError } from "../../core/http/errors.ts";
import type { Resolution } from "../../core/model/metrics.ts";
import type { ProbeStatus } from "../../core/model/probe.ts";

export type QueryString = Record<string, string | undefined>;

const DEFAULT_WINDOW_MS = 60 * 60_000;
const STATUSES: readonly ProbeStatus[] = ["success", "failure", "timeout", "error"];
const RESOLUTIONS: readonly Resolution[] = ["minute", "hour", "day"];

export function invalid(name: string, detail: string): MeshsightError {
  return createError("MS_INVALID_PARAMETER", { name, detail });
}

/** Epoch ms or RFC 3339, as everywhere in the v1 API. */
function parseTime(value: string): number | null {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** `from`/`to`, default the last hour; half-open [fromMs, toMs). */
export function timeRange(query: QueryString, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = query.to === undefined ? nowMs + 1 : parseTime(query.to);
  if (toMs === null) throw invalid("to", "expected epoch milliseconds or an RFC 3339 time");
  const fromMs = query.from === undefined ? toMs - DEFAULT_WINDOW_MS : parseTime(query.from);
  if (fromMs === null) throw invalid("from", "expected epoch milliseconds or an RFC 3339 time");
  if (fromMs >= toMs) throw invalid("from", "must be before to");
  return { fromMs, toMs };
}

export function limitParam(query: QueryString, fallback: number, max: number): number {
  if (query.limit === undefined) return fallback;
  const value = Number(query.limit);
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalid("limit", `expected an integer 1..${max}`);
  return value;
}

export function statusParam(query: QueryString): ProbeStatus | undefined {
  if (query.status === undefined) return undefined;
  const status = STATUSES.find((each) => each === query.status);
  if (!status) throw invalid("status", `expected one of ${STATUSES.join(", ")}`);
  return status;
}

/** `step`: minute, hour or day (also 1m, 1h, 1d). */
export function stepParam(query: QueryString): Resolution {
  const aliases: Record<string, Resolution> = { "1m": "minute", "1h": "hour", "1d": "day" };
  const value = query.step ?? "minute";
  const step = RESOLUTIONS.find((each) => each === value) ?? aliases[value];
  if (!step) throw invalid("step", "expected minute, hour or day");
  return step;
}

export function booleanParam(query: QueryString, name: string): boolean {
  const value = query[name];
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw invalid(name, "expected true or false");
}
