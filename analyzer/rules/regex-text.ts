import { z } from "zod";

/**
 * The one place user-written regular expressions (rule include/exclude names, silence matchers) are compiled, so
 * a linear-time engine can replace RegExp here alone. `isAnchored` makes the pattern match whole values, like
 * Alertmanager's and Prometheus' `=~`. Throws SyntaxError when the text does not compile.
 */
export function compileUserRegex(source: string, options: { isAnchored: boolean }): RegExp {
  return new RegExp(options.isAnchored ? `^(?:${source})$` : source);
}

/** A regular expression given as text (rule include/exclude names, silence matchers): must compile. */
export function regexTextField(maxLength: number) {
  return z
    .string()
    .max(maxLength)
    .refine((text) => {
      try {
        compileUserRegex(text, { isAnchored: false });
        return true;
      } catch {
        return false;
      }
    }, "not a valid regular expression");
}
