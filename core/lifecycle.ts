import type { Logger } from "pino";

/**
 * Start/stop order for everything the process runs. Components start in the given order (storage before
 * the receivers that write to it) and stop in reverse, so producers stop and flush before the things
 * they flush into close. Only cli.ts exits the process; this module is handed an `exit` callback.
 */

export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Flushes and releases sockets, timers and files; called at most once, and only after start() succeeded. */
  stop(): Promise<void>;
}

/** A component failed to start; the message is meant for operators as it is (no stack trace needed). */
export class StartupError extends Error {
  override readonly name = "StartupError";
  constructor(
    readonly component: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface LifecycleOptions {
  components: readonly Component[];
  logger: Logger;
  /** Total time stop() may take; components still stopping after it are abandoned (and logged). */
  stopTimeoutMs: number;
}

export class Lifecycle {
  private readonly started: Component[] = [];
  private starting: Promise<void> | undefined;
  private isStopRequested = false;
  private stopping: Promise<boolean> | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  /** Starts every component in order; on failure stops the started ones and throws one StartupError. */
  start(): Promise<void> {
    this.starting ??= this.startInOrder();
    return this.starting;
  }

  /** Stops started components in reverse within the deadline; resolves true when all stopped cleanly. Idempotent. */
  stop(): Promise<boolean> {
    this.isStopRequested = true;
    this.stopping ??= this.stopInReverse();
    return this.stopping;
  }

  private async startInOrder(): Promise<void> {
    const { logger } = this.options;
    for (const component of this.options.components) {
      // A signal during start must not start more things that then need stopping.
      if (this.isStopRequested) return;
      try {
        await component.start();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // An expected failure (unreachable server) is told in words; only surprises carry a stack.
        if (error instanceof StartupError) logger.error({ component: component.name, reason: message }, "component failed to start");
        else logger.error({ component: component.name, err: error }, "component failed to start");
        await this.stopStarted();
        throw error instanceof StartupError ? error : new StartupError(component.name, `${component.name} failed to start: ${message}`, { cause: error });
      }
      this.started.push(component);
      logger.debug({ component: component.name }, "component started");
    }
  }

  private async stopInReverse(): Promise<boolean> {
    // Let an in-flight start finish (or fail and clean up) so nothing starts after we stopped it.
    await this.starting?.catch(() => undefined);
    return this.stopStarted();
  }

  private async stopStarted(): Promise<boolean> {
    const { logger, stopTimeoutMs } = this.options;
    const deadline = Date.now() + stopTimeoutMs;
    let isClean = true;
    for (const component of this.started.splice(0).reverse()) {
      const remainingMs = Math.max(0, deadline - Date.now());
      const outcome = await withDeadline(component.stop(), remainingMs);
      if (outcome.kind === "timeout") {
        isClean = false;
        logger.error({ component: component.name, stopTimeoutMs }, "component did not stop before the shutdown deadline");
      } else if (outcome.kind === "error") {
        isClean = false;
        logger.error({ component: component.name, err: outcome.error }, "component failed to stop");
      } else {
        logger.debug({ component: component.name }, "component stopped");
      }
    }
    return isClean;
  }
}

type Outcome = { kind: "done" } | { kind: "error"; error: unknown } | { kind: "timeout" };

async function withDeadline(work: Promise<void>, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    // Not unref'd: if the work hangs on nothing that keeps the loop alive, the process must still reach
    // the deadline and its exit code instead of ending silently mid-shutdown. Cleared below either way.
    timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
  });
  try {
    return await Promise.race([work.then((): Outcome => ({ kind: "done" }), (error: unknown): Outcome => ({ kind: "error", error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The part of `process` signal handling needs; tests pass an EventEmitter. */
export interface SignalSource {
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface ShutdownOnSignalsOptions {
  source: SignalSource;
  /** Flushes and stops everything; resolves true when that went cleanly. */
  shutdown: () => Promise<boolean>;
  exit: (code: number) => void;
  logger: Logger;
  signals?: readonly NodeJS.Signals[];
  now?: () => number;
}

/**
 * Ctrl-C reaches every process of the terminal's process group, and `npm start` / tsx also forward the
 * signal to this process: one keypress arrives as two signals within milliseconds. Repeats inside this
 * window are that echo, not an operator insisting, and must not cut the flush short.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

/**
 * First SIGTERM/SIGINT: graceful shutdown, then exit 0 (1 if a component failed to stop in time).
 * Another signal later than REPEATED_SIGNAL_WINDOW_MS while shutting down: exit 1 at once, for
 * operators who do not want to wait. Returns a function that removes the handlers.
 */
export function shutdownOnSignals(options: ShutdownOnSignalsOptions): () => void {
  const { source, shutdown, exit, logger, signals = ["SIGTERM", "SIGINT"], now = Date.now } = options;
  let firstSignalAtMs = 0;
  const forceExit = (): void => {
    if (now() - firstSignalAtMs < REPEATED_SIGNAL_WINDOW_MS) return;
    logger.warn("second signal during shutdown: exiting without waiting");
    exit(1);
  };
  const onFirstSignal = (signal: NodeJS.Signals) => (): void => {
    firstSignalAtMs = now();
    for (const [other, listener] of listeners) source.removeListener(other, listener);
    for (const other of signals) source.on(other, forceExit);
    logger.info({ signal }, "shutting down");
    void shutdown().then(
      (isClean) => {
        logger.info({ isClean }, "stopped");
        exit(isClean ? 0 : 1);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  const listeners = new Map(signals.map((signal) => [signal, onFirstSignal(signal)] as const));
  for (const [signal, listener] of listeners) source.once(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) source.removeListener(signal, listener);
    for (const signal of signals) source.removeListener(signal, forceExit);
  };
}

export interface BackingServiceOptions {
  name: string;
  /** How operators know it: "ClickHouse at http://127.0.0.1:8123/" (without passwords). */
  target: string;
  /** Connects and prepares (migrations); omitted for clients that connect lazily. */
  connect?: () => Promise<void>;
  isReachable: () => Promise<boolean>;
  close: () => Promise<void>;
  connectTimeoutMs: number;
}

/**
 * Wraps a storage or queue adapter so an unreachable server fails start with one operator-facing line,
 * "cannot reach <target>: <cause>", instead of a client library's retry loop or stack trace.
 */
export function backingServiceComponent(options: BackingServiceOptions): Component {
  const { name, target, connectTimeoutMs } = options;
  return {
    name,
    async start() {
      const connected = await withDeadline(options.connect?.() ?? Promise.resolve(), connectTimeoutMs);
      let cause: string | undefined;
      if (connected.kind === "timeout") cause = `no answer within ${connectTimeoutMs} ms`;
      else if (connected.kind === "error") cause = rootCauseMessage(connected.error);
      else if (!(await options.isReachable().catch(() => false))) cause = "it does not answer a ping";
      if (cause === undefined) return;
      // Client libraries keep reconnecting in the background; close so the process can exit.
      await withDeadline(options.close(), 1_000);
      throw new StartupError(name, `cannot reach ${target}: ${cause}`);
    },
    stop: options.close,
  };
}

/** Longest reason put in the operator's line; a server answering with a whole page must not flood it. */
const MAX_REASON_CHARS = 200;

/**
 * Adapters wrap the client's error in their own sentence; the operator line wants the innermost reason
 * once, on one line. A connection refused on every address of a name comes as an AggregateError with an
 * empty message (its errors say why); something that is not the expected server may answer with HTML.
 */
function rootCauseMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (!(current instanceof Error)) return String(current);
  const parts = current instanceof AggregateError && current.message === "" ? current.errors.map((inner: unknown) => rootCauseMessage(inner)) : [current.message];
  const code = (current as { code?: unknown }).code;
  const text = [...new Set(parts)].join("; ").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  const reason = text !== "" ? text : typeof code === "string" ? code : `${current.name} without a message`;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
}
