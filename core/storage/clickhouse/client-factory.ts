import { ClickHouseLogLevel, createClient, type ClickHouseClient, type Logger as ClientLogger } from "@clickhouse/client";
import type { Logger } from "pino";

/**
 * The client's own logger prints every failed request at ERROR with its arguments. The adapter already
 * turns each failure into one thrown error (and start() into one StorageUnavailableError), so the
 * client's copies go to debug: an unreachable server gives one clear line, not a stream of them.
 */
function quietClientLogger(logger: Logger): new () => ClientLogger {
  return class implements ClientLogger {
    trace(params: { module: string; message: string; args?: Record<string, unknown> }): void {
      logger.trace({ module: params.module, ...params.args }, params.message);
    }
    debug(params: { module: string; message: string; args?: Record<string, unknown> }): void {
      logger.debug({ module: params.module, ...params.args }, params.message);
    }
    info(params: { module: string; message: string; args?: Record<string, unknown> }): void {
      logger.debug({ module: params.module, ...params.args }, params.message);
    }
    warn(params: { module: string; message: string; args?: Record<string, unknown>; err?: Error }): void {
      logger.debug({ module: params.module, err: params.err, ...params.args }, params.message);
    }
    error(params: { module: string; message: string; args?: Record<string, unknown>; err: Error }): void {
      logger.debug({ module: params.module, err: params.err, ...params.args }, params.message);
    }
  };
}

export function createClickHouseClient(url: string, requestTimeoutMs: number, logger: Logger): ClickHouseClient {
  return createClient({
    url,
    request_timeout: requestTimeoutMs,
    application: "meshsight",
    log: { LoggerClass: quietClientLogger(logger), level: ClickHouseLogLevel.WARN },
  });
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(unparsable url)";
  }
}
