import { isDeepStrictEqual } from "node:util";
import type { ProbeContext } from "../kind.ts";
import { excerpt, excerptText } from "../excerpt.ts";
import { evaluateJsonPath } from "./json-path.ts";
import type { HttpSpec } from "./http-spec.ts";
import { describeRanges, isStatusAccepted } from "./status-codes.ts";
import type { HttpExchange } from "./http-exchange.ts";

/** How a bodyRegex failure's message starts; the kind reports it as blackbox's probe_failed_due_to_regex. */
export const BODY_REGEX_PROBLEM = "body does not match bodyRegex";

/**
 * The first assertion the final response breaks, as an actionable message; "" when all hold. bodyRegex
 * is matched through the context's bounded matcher, which rejects with RegexTimeLimitError when too costly.
 */
export async function checkResponse(spec: HttpSpec, response: HttpExchange, url: string, totalMs: number, context: Pick<ProbeContext, "patterns" | "signal">): Promise<string> {
  if (!isStatusAccepted(response.status, spec.expectedStatus)) {
    return `expected status ${describeRanges(spec.expectedStatus)} from ${url}, got ${response.status}${bodyHint(response)}`;
  }
  if (spec.maxLatencyMs !== undefined && totalMs > spec.maxLatencyMs) {
    return `took ${Math.round(totalMs)}ms, more than maxLatency ${spec.maxLatencyMs}ms`;
  }
  const text = response.body.toString("utf8");
  if (spec.bodyRegex && !(await context.patterns.test(spec.bodyRegex, text, context.signal))) {
    return `${BODY_REGEX_PROBLEM} /${spec.bodyRegex.source}/${response.bodyTruncated ? ` (only the first ${response.body.length} bytes were checked)` : ""}${bodyHint(response)}`;
  }
  if (spec.json.length === 0) return "";
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return `body is not JSON, so the json assertions cannot hold${bodyHint(response)}`;
  }
  for (const assertion of spec.json) {
    const result = evaluateJsonPath(document, assertion.path);
    if (!result.found) {
      if (assertion.exists || assertion.hasEquals) return `${assertion.path.text} is missing from the body`;
      continue;
    }
    if (!assertion.exists && !assertion.hasEquals) return `${assertion.path.text} is present but expected absent`;
    if (assertion.hasEquals && !isDeepStrictEqual(result.value, assertion.equals)) {
      return `${assertion.path.text} is ${excerptText(JSON.stringify(result.value))}, expected ${JSON.stringify(assertion.equals)}`;
    }
  }
  return "";
}

/** The start of the body helps most with 5xx pages; an excerpt only, so a probe cannot be used to read a service's data. */
function bodyHint(response: HttpExchange): string {
  const text = response.body.subarray(0, 1024).toString("utf8").replace(/\s+/g, " ").trim();
  return text === "" ? "" : ` (body: ${excerpt(text, response.body.length > 1024)})`;
}
