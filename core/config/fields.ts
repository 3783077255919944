import { z } from "zod";

/**
 * Field builders shared by every config section. Env variables and flags arrive as text while YAML may
 * already hold numbers, so numeric fields accept both; every field carries an "expected ..." message that
 * the loader prints next to the offending key, value and source.
 */

const INTEGER_TEXT = /^[+-]?\d+$/;

function integerFromText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  return INTEGER_TEXT.test(trimmed) ? Number(trimmed) : value;
}

export function integerField(min: number, max: number) {
  const expected = `expected an integer ${min}..${max}`;
  return z.preprocess(integerFromText, z.int({ error: expected }).min(min, { error: expected }).max(max, { error: expected }));
}

/** A TCP port; 0 asks the OS for a free one (the chosen port is logged). */
export function portField(defaultPort: number) {
  return integerField(0, 65_535).default(defaultPort);
}

export function textField(defaultValue: string) {
  const expected = "expected a non-empty string";
  return z.string({ error: expected }).trim().min(1, { error: expected }).default(defaultValue);
}

export function enumField<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z.enum(values, { error: `expected one of ${values.join(", ")}` }).default(defaultValue);
}

/** An optional URL whose scheme is one of `schemes` (without "://"). */
export function optionalUrlField(schemes: readonly string[]) {
  const expected = `expected a URL starting with ${schemes.map((scheme) => `${scheme}://`).join(" or ")}`;
  return z
    .string({ error: expected })
    .trim()
    .refine((text) => {
      if (!URL.canParse(text)) return false;
      return schemes.includes(new URL(text).protocol.replace(/:$/, ""));
    }, { error: expected })
    .optional();
}

/** A list from YAML, or comma-separated from env and flags (blank parts dropped). */
export function listFromText(value: unknown): unknown {
  return typeof value === "string" ? value.split(",").map((part) => part.trim()).filter((part) => part !== "") : value;
}

/** A list of strings, empty by default; `expected` names what the list holds ("expected a list of file paths"). */
export function textListField(expected: string) {
  return z.preprocess(listFromText, z.array(z.string({ error: expected }), { error: expected })).default([]);
}

/** An optional file path; empty means unset, so an env variable can switch it off. */
export function optionalPathField() {
  return z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: "expected a file path" }).optional());
}

/** A share 0..1; env values and flags arrive as text. */
export function shareField(defaultValue: number, expected = "expected a number from 0 to 1") {
  return z
    .preprocess((value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : value), z.number({ error: expected }).min(0, { error: expected }).max(1, { error: expected }))
    .default(defaultValue);
}

/** Env variables and flags arrive as text; YAML may hold a real boolean. */
function booleanFromText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(text)) return true;
  if (["false", "0", "no", "off"].includes(text)) return false;
  return value;
}

/** An on/off setting: true/false (also 1/0, yes/no, on/off from env and flags). */
export function switchField(defaultValue: boolean) {
  return z.preprocess(booleanFromText, z.boolean({ error: "expected true or false" })).default(defaultValue);
}

/** SQL identifiers are spliced into DDL, so they are restricted to a safe alphabet. */
export function identifierField(defaultValue: string) {
  const expected = "expected an identifier (letters, digits, underscore; not starting with a digit)";
  return z.string({ error: expected }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: expected }).default(defaultValue);
}
