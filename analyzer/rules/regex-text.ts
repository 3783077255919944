import { z } from "zod";

/** A regular expression given as text (rule include/exclude names, silence matchers): must compile. */
export function regexTextField(maxLength: number) {
  return z
    .string()
    .max(maxLength)
    .refine((text) => {
      try {
        new RegExp(text);
        return true;
      } catch {
        return false;
      }
    }, "not a valid regular expression");
}
