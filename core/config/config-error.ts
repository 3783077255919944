/**
 * A config problem the operator must fix: the message names the key, the bad value, what was expected
 * and where the value came from. The CLI prints it as one line and exits with code 2, never a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const MAX_VALUE_CHARS = 120;

/** Shows a value the way the operator typed it; passwords in URLs are masked so the message is safe to log. */
export function displayValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  // JSON shows strings quoted, so "8080" from env and 8080 from YAML read differently, as they should.
  const text = JSON.stringify(typeof value === "string" ? redactUrlPassword(value) : value) ?? typeof value;
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}...` : text;
}

/** "redis://user:secret@host" -> "redis://user:***@host"; anything that is not such a URL is returned as is. */
export function redactUrlPassword(text: string): string {
  if (!URL.canParse(text)) return text;
  const url = new URL(text);
  if (url.password === "") return text;
  url.password = "***";
  return url.toString();
}
