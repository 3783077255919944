import { z } from "zod";
import { compileUserRegex, UserRegexError } from "../../core/regex/user-regex.ts";

/**
 * User-written regular expressions (rule include/exclude names, silence matchers) are compiled by
 * core/regex/user-regex.ts, on a linear-time engine; re-exported for the analyzer's callers.
 */
export { compileUserRegex };

/** A regular expression given as text (rule include/exclude names, silence matchers): must compile, and the message says why not. */
export function regexTextField(maxLength: number) {
  return z
    .string()
    .max(maxLength)
    .superRefine((text, context) => {
      try {
        compileUserRegex(text, { isAnchored: false });
      } catch (error) {
        if (!(error instanceof UserRegexError)) throw error;
        context.addIssue({ code: "custom", message: error.message });
      }
    });
}
