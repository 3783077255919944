import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { textDestination } from "./text-log.ts";

export interface LoggerOptions {
  level: Level | "silent";
  /** json: one JSON object a line; text: readable lines for a terminal (core/telemetry/text-log.ts). Default json. */
  format?: "json" | "text";
  /** Where lines go; stdout when omitted (tests pass a stream they read). */
  destination?: DestinationStream;
}

/**
 * The process logger: JSON lines (what log pipelines ingest) with level names and ISO timestamps, or the
 * same records as readable text on a terminal; credentials in request headers redacted before they reach
 * any log.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { service: "meshsight" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["req.headers.authorization", "req.headers.cookie"], censor: "***" },
    },
    options.format === "text" ? textDestination(destination) : destination,
  );
}

/** What `log.format: auto` means for a stream: text when a person watches it. */
export function resolveLogFormat(format: "auto" | "json" | "text", isTerminal: boolean): "json" | "text" {
  return format === "auto" ? (isTerminal ? "text" : "json") : format;
}
