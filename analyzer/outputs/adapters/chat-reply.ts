import { httpStatusVerdict, type ReplyVerdict } from "./adapter.ts";

/**
 * DingTalk and Feishu answer HTTP 200 even when they refuse a message; the verdict is a numeric code in the JSON
 * body (`errcode`, `code`, or Feishu's older `StatusCode`). Rate limits are retried, every other code is a
 * configuration problem (bad token, signature, keyword) that retrying cannot fix.
 */
export function jsonCodeVerdict(status: number, body: string, codeFields: readonly string[], rateLimitCodes: readonly number[]): ReplyVerdict {
  if (status < 200 || status >= 300) return httpStatusVerdict(status, body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, retryable: false, reason: `reply is not JSON: ${body.slice(0, 200)}` };
  }
  const reply = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const field = codeFields.find((name) => typeof reply[name] === "number");
  if (field === undefined) return { ok: false, retryable: false, reason: `reply has no ${codeFields.join(" or ")}: ${body.slice(0, 200)}` };
  const code = reply[field] as number;
  if (code === 0) return { ok: true };
  return { ok: false, retryable: rateLimitCodes.includes(code), reason: `${field} ${code}: ${body.slice(0, 200)}` };
}
