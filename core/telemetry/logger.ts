import { pino, type DestinationStream, type Level, type Logger } from "pino";

export interface LoggerOptions {
  level: Level | "silent";
  /** Where JSON lines go; stdout when omitted (tests pass a stream they read). */
  destination?: DestinationStream;
}

/**
 * The process logger: JSON lines (what log pipelines ingest), ISO timestamps so humans can read them
 * too, and credentials in request headers redacted before they reach any log.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "meshsight" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["req.headers.authorization", "req.headers.cookie"], censor: "***" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
