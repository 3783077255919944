import type { DestinationStream } from "pino";

/** pino's numeric levels, as operators read them. */
const LEVEL_NAMES: ReadonlyMap<number, string> = new Map([
  [10, "TRACE"],
  [20, "DEBUG"],
  [30, "INFO"],
  [40, "WARN"],
  [50, "ERROR"],
  [60, "FATAL"],
]);
/** Fields every line has or that the line's head already shows (so do text fields the message quotes). */
const HEAD_FIELDS = new Set(["level", "time", "msg", "service", "pid", "hostname"]);
/** A field value longer than this is cut: a line on a terminal should stay readable. */
const MAX_VALUE_CHARS = 300;

/**
 * Turns one pino JSON line into what a person reads on a terminal:
 * `14:15:02.738 INFO  listening component=als port=11800`. Errors show their message, not their stack;
 * a line that is not pino's JSON passes unchanged.
 */
export function formatTextLine(jsonLine: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith("\n") ? jsonLine : `${jsonLine}\n`;
  }
  const level = typeof record.level === "number" ? (LEVEL_NAMES.get(record.level) ?? String(record.level)) : typeof record.level === "string" ? record.level.toUpperCase() : "";
  const message = typeof record.msg === "string" ? record.msg : "";
  const fields = Object.entries(record)
    .filter(([key, value]) => !HEAD_FIELDS.has(key) && !(typeof value === "string" && value !== "" && message.includes(value)))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return `${clockTime(record.time)} ${level.padEnd(5)} ${message}${fields.length > 0 ? `  ${fields.join(" ")}` : ""}\n`;
}

/** The time of day of an ISO timestamp, which is what matters while watching a console. */
function clockTime(time: unknown): string {
  const text = typeof time === "string" ? time : typeof time === "number" ? new Date(time).toISOString() : "";
  return /T(\d\d:\d\d:\d\d\.\d{3})/.exec(text)?.[1] ?? text;
}

function formatValue(value: unknown): string {
  const cut = (text: string): string => (text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text);
  if (isErrorLike(value)) return JSON.stringify(cut(value.message));
  if (typeof value === "string") return /^\S+$/.test(value) ? cut(value) : JSON.stringify(cut(value));
  if (Array.isArray(value) && value.every((item) => typeof item !== "object")) return cut(value.join(","));
  return cut(JSON.stringify(value));
}

function isErrorLike(value: unknown): value is { message: string } {
  return typeof value === "object" && value !== null && "message" in value && typeof value.message === "string" && ("stack" in value || "type" in value);
}

/** A pino destination writing readable lines into `inner`. */
export function textDestination(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(formatTextLine(line)) };
}
