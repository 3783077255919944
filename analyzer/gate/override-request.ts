import { createError, type MeshsightError } from "../../core/http/errors.ts";
import { parseDurationMs } from "./gate-definition.ts";
import type { GateOverride } from "./gate-store.ts";

export interface OverrideLimits {
  defaultTtlMs: number;
  maxTtlMs: number;
}

const invalid = (detail: string): MeshsightError => createError("MS_VALIDATION_FAILED", { detail });

/**
 * `POST /api/v1/gates/:name/override` body: `{ "action": "open"|"close", "reason": "...", "ttl": "30m" }` or
 * `"expiresAt"` (RFC 3339 or epoch ms) instead of ttl. Every override expires: a forgotten "open" must not
 * wave releases through for ever. An expiry that is already past is refused, not silently ignored.
 */
export function parseOverride(body: unknown, gate: string, by: string, nowMs: number, limits: OverrideLimits): GateOverride {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid('expected a JSON object such as {"action":"open","reason":"hotfix approved by on-call","ttl":"30m"}');
  const fields = body as Record<string, unknown>;
  const unknownKeys = Object.keys(fields).filter((key) => !["action", "reason", "ttl", "expiresAt"].includes(key));
  if (unknownKeys.length > 0) throw invalid(`unknown field(s) ${unknownKeys.join(", ")}; expected action, reason, ttl or expiresAt`);
  if (fields.action !== "open" && fields.action !== "close") throw invalid(`field action: expected "open" (force pass) or "close" (force fail), got ${JSON.stringify(fields.action)}`);
  if (typeof fields.reason !== "string" || fields.reason.trim() === "" || fields.reason.length > 1_000) throw invalid("field reason: expected why (1..1000 characters); it goes to the audit log and into every decision the override makes");
  if (fields.ttl !== undefined && fields.expiresAt !== undefined) throw invalid("give ttl or expiresAt, not both");
  const expiresAtMs = fields.expiresAt !== undefined ? parseInstant(fields.expiresAt) : nowMs + parseTtl(fields.ttl, limits.defaultTtlMs);
  if (expiresAtMs <= nowMs) throw invalid(`the override expires at ${new Date(expiresAtMs).toISOString()}, which is already past`);
  if (expiresAtMs - nowMs > limits.maxTtlMs) throw invalid(`an override may last at most ${limits.maxTtlMs / 60_000} minutes (gates.overrideMaxTtlMs)`);
  return { gate, action: fields.action, reason: fields.reason.trim(), by, createdAtMs: nowMs, expiresAtMs };
}

function parseTtl(ttl: unknown, defaultTtlMs: number): number {
  if (ttl === undefined) return defaultTtlMs;
  const ms = typeof ttl === "string" ? parseDurationMs(ttl) : null;
  if (ms === null || ms <= 0) throw invalid(`field ttl: expected a duration such as "30m" or "2h", got ${JSON.stringify(ttl)}`);
  return ms;
}

function parseInstant(value: unknown): number {
  const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(`field expiresAt: expected RFC 3339 time or epoch milliseconds, got ${JSON.stringify(value)}`);
  return ms;
}
