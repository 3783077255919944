import { isDeepStrictEqual } from "node:util";
import { RegexTimeLimitError } from "../../../core/regex/bounded-match.ts";
import type { ProbeContext } from "../kind.ts";
import { excerpt, excerptText } from "../excerpt.ts";
import { evaluateJsonPath } from "./json-path.ts";
import type { HttpSpec } from "./http-spec.ts";
import { describeRanges, isStatusAccepted } from "./status-codes.ts";
import type { HttpExchange } from "./http-exchange.ts";

/**
 * The first assertion a response breaks ("" when all hold), and whether a pattern or a CEL expression
 * broke it (blackbox's probe_failed_due_to_regex and probe_failed_due_to_cel).
 */
export interface ResponseVerdict {
  problem: string;
  dueTo: "regex" | "cel" | undefined;
}

/** A pattern too costly for what it was matched against: the case's definition needs fixing, the target may be fine. */
export class PatternStoppedError extends Error {
  override readonly name = "PatternStoppedError";
  constructor(
    readonly field: string,
    readonly pattern: RegExp,
    override readonly cause: RegexTimeLimitError,
  ) {
    super(`${field} /${pattern.source}/ was stopped: ${cause.message}`);
  }
}

/**
 * Checks the final response in blackbox_exporter's order (prober/http.go): status, header patterns,
 * latency, body patterns, CEL expressions, JSON, then TLS. Patterns run through the context's bounded matcher; one too
 * costly for its input throws PatternStoppedError naming its field.
 */
export async function checkResponse(spec: HttpSpec, response: HttpExchange, url: string, totalMs: number, context: Pick<ProbeContext, "patterns" | "signal">): Promise<ResponseVerdict> {
  const matches = async (field: string, pattern: RegExp, input: string) => {
    try {
      return await context.patterns.test(pattern, input, context.signal);
    } catch (error) {
      if (error instanceof RegexTimeLimitError) throw new PatternStoppedError(field, pattern, error);
      throw error;
    }
  };
  const verdict = (problem: string, dueTo?: ResponseVerdict["dueTo"]): ResponseVerdict => ({ problem, dueTo });
  if (!isStatusAccepted(response.status, spec.expectedStatus)) {
    return verdict(`expected status ${describeRanges(spec.expectedStatus)} from ${url}, got ${response.status}${bodyHint(response)}`);
  }
  const headerProblem = await checkHeaders(spec, response.rawHeaders, matches);
  if (headerProblem !== "") return verdict(headerProblem, "regex");
  if (spec.maxLatencyMs !== undefined && totalMs > spec.maxLatencyMs) {
    return verdict(`took ${Math.round(totalMs)}ms, more than maxLatency ${spec.maxLatencyMs}ms`);
  }
  if (response.bodyProblem !== "") return verdict(`reading the body of ${url}: ${response.bodyProblem}`, bodyReadBlame(spec, response));
  const text = response.body.toString("utf8");
  const checked = `${response.bodyTruncated ? ` (only the first ${response.body.length} bytes were checked)` : ""}${bodyHint(response)}`;
  if (spec.bodyRegex && !(await matches("bodyRegex", spec.bodyRegex, text))) return verdict(`body does not match bodyRegex /${spec.bodyRegex.source}/${checked}`, "regex");
  for (const [index, pattern] of spec.failIfBodyMatches.entries()) {
    if (await matches(`failIfBodyMatches.${index}`, pattern, text)) return verdict(`body matches failIfBodyMatches /${pattern.source}/${checked}`, "regex");
  }
  for (const [index, pattern] of spec.failIfBodyNotMatches.entries()) {
    if (!(await matches(`failIfBodyNotMatches.${index}`, pattern, text))) return verdict(`body does not match failIfBodyNotMatches /${pattern.source}/${checked}`, "regex");
  }
  const celProblem = checkCel(spec, text, response);
  if (celProblem !== "") return verdict(celProblem, "cel");
  return verdict(checkJson(spec, text, response) || checkTls(spec, response));
}

const hasBodyPatterns = (spec: HttpSpec) => spec.failIfBodyMatches.length + spec.failIfBodyNotMatches.length > 0;

/**
 * Blackbox reads the body inside its first body check, the patterns' or else the CEL expressions', so a
 * failed read is that check failing; a decoder that refused the body's start came before both.
 */
function bodyReadBlame(spec: HttpSpec, response: HttpExchange): ResponseVerdict["dueTo"] {
  if (response.isBodyRefusedByDecoder) return undefined;
  if (hasBodyPatterns(spec)) return "regex";
  return spec.failIfBodyJsonMatchesCel || spec.failIfBodyJsonNotMatchesCel ? "cel" : undefined;
}

/**
 * blackbox's matchCELExpressions: the body parsed as JSON, then each expression; an error, a result that is
 * not a bool, `fail_if_body_json_matches_cel` true or `..._not_matches_cel` false fail the probe. (Blackbox
 * hands the CEL check what its pattern check left of the body, nothing, when a module has both; here both
 * see the whole body.)
 */
function checkCel(spec: HttpSpec, text: string, response: HttpExchange): string {
  const checks = [[spec.failIfBodyJsonMatchesCel, true], [spec.failIfBodyJsonNotMatchesCel, false]] as const;
  for (const [program, failsWhen] of checks) {
    if (program === undefined) continue;
    if (response.bodyTruncated) return `the body is larger than the ${response.body.length} bytes kept (maxBodyBytes), so CEL ${JSON.stringify(program.expression)} cannot be evaluated on its JSON`;
    const result = program.evaluate(text);
    if ("problem" in result) return `${result.problem}${bodyHint(response)}`;
    if (result.value === failsWhen) return `body ${failsWhen ? "matches failIfBodyJsonMatchesCel" : "does not match failIfBodyJsonNotMatchesCel"} ${JSON.stringify(program.expression)}${bodyHint(response)}`;
  }
  return "";
}

type Matches = (field: string, pattern: RegExp, input: string) => Promise<boolean>;

/** blackbox's matchRegularExpressionsOnHeaders: every value of a header sent more than once counts. */
async function checkHeaders(spec: HttpSpec, rawHeaders: readonly string[], matches: Matches): Promise<string> {
  const values = (header: string): string[] => {
    const result: string[] = [];
    for (let index = 0; index + 1 < rawHeaders.length; index += 2) if (rawHeaders[index]?.toLowerCase() === header.toLowerCase()) result.push(rawHeaders[index + 1] ?? "");
    return result;
  };
  for (const [field, checks, isFailOnMatch] of [["failIfHeaderMatches", spec.failIfHeaderMatches, true], ["failIfHeaderNotMatches", spec.failIfHeaderNotMatches, false]] as const) {
    for (const [index, check] of checks.entries()) {
      const found = values(check.header);
      if (found.length === 0) {
        if (check.allowMissing) continue;
        return `header ${check.header} is missing (${field} without allowMissing)`;
      }
      let isAnyMatching = false;
      for (const value of found) if (await matches(`${field}.${index}.regexp`, check.pattern, value)) isAnyMatching = true;
      if (isFailOnMatch && isAnyMatching) return `header ${check.header} matches ${field} /${check.pattern.source}/`;
      if (!isFailOnMatch && !isAnyMatching) return `header ${check.header} does not match ${field} /${check.pattern.source}/`;
    }
  }
  return "";
}

function checkJson(spec: HttpSpec, text: string, response: HttpExchange): string {
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

function checkTls(spec: HttpSpec, response: HttpExchange): string {
  if (spec.failIfSsl && response.tls) return "the final response came over TLS (failIfSsl)";
  if (spec.failIfNotSsl && !response.tls) return "the final response did not come over TLS (failIfNotSsl)";
  return "";
}

/** The start of the body helps most with 5xx pages; an excerpt only, so a probe cannot be used to read a service's data. */
function bodyHint(response: HttpExchange): string {
  const text = response.body.subarray(0, 1024).toString("utf8").replace(/\s+/g, " ").trim();
  return text === "" ? "" : ` (body: ${excerpt(text, response.body.length > 1024)})`;
}
