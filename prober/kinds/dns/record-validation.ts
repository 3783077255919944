import type { BoundedRegexMatcher } from "../../../core/regex/bounded-match.ts";
import { excerpt } from "../excerpt.ts";

/**
 * blackbox_exporter's DNSRRValidator (config/config.go), the checks of validate_answer_rrs,
 * validate_authority_rrs and validate_additional_rrs. Each pattern is unanchored and matched against a
 * record's presentation form, as prober/dns.go validRRs does.
 */
export interface RecordValidator {
  /** Fails when any record matches any of these. */
  failIfMatches: RegExp[];
  /**
   * Despite its name, fails when some record does NOT match one of these: that is what prober/dns.go
   * does (it fails on "Not all RRs matched regexp"), and modules written for it rely on that.
   */
  failIfAllMatch: RegExp[];
  /** Fails when any record does not match one of these, or there are no records. */
  failIfNotMatches: RegExp[];
  /** Fails when no record matches any of these, or there are no records. */
  failIfNoneMatches: RegExp[];
}

export const NO_VALIDATION: RecordValidator = { failIfMatches: [], failIfAllMatch: [], failIfNotMatches: [], failIfNoneMatches: [] };

/** Why the records fail the validator, or "" when they pass; the order of checks is blackbox's. */
export async function validateRecords(records: readonly string[], validator: RecordValidator, patterns: BoundedRegexMatcher, signal: AbortSignal): Promise<string> {
  const test = (pattern: RegExp, record: string) => patterns.test(pattern, record, signal);
  if (records.length === 0 && validator.failIfNotMatches.length > 0) return "fail_if_not_matches_regexp is set but there are no records";
  if (records.length === 0 && validator.failIfNoneMatches.length > 0) return "fail_if_none_matches_regexp is set but there are no records";
  let isAnyMatching = false;
  let isAllMatching = true;
  for (const record of records) {
    for (const pattern of validator.failIfMatches) if (await test(pattern, record)) return `${excerpt(record)} matches fail_if_matches_regexp /${pattern.source}/`;
    for (const pattern of validator.failIfAllMatch) if (!(await test(pattern, record))) isAllMatching = false;
    for (const pattern of validator.failIfNotMatches) if (!(await test(pattern, record))) return `${excerpt(record)} does not match fail_if_not_matches_regexp /${pattern.source}/`;
    for (const pattern of validator.failIfNoneMatches) if (await test(pattern, record)) isAnyMatching = true;
  }
  if (validator.failIfAllMatch.length > 0 && !isAllMatching) return "not every record matches fail_if_all_match_regexp";
  if (validator.failIfNoneMatches.length > 0 && !isAnyMatching) return "no record matches fail_if_none_matches_regexp";
  return "";
}
