import type { FastifyInstance } from "fastify";
import { createError, errorBody } from "./errors.ts";

/** One dependency /readyz asks; `isReady` is the adapter's cheap ping. */
export interface ReadinessCheck {
  name: string;
  isReady: () => Promise<boolean>;
  /**
   * What an operator should know that does not make the process unready, e.g. a ClickHouse replica down
   * while writes go on through the others; shown under `details.<name>`, left out when undefined.
   */
  details?: () => Promise<object | undefined>;
}

type CheckState = "up" | "down" | "timeout" | "error";

/** `answer`, or `onTimeout` when it takes longer than `timeoutMs`. */
async function within<T>(answer: Promise<T>, timeoutMs: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    // Not unref'd: the request waiting on this answer must keep the process alive (inject has no socket).
    timer = setTimeout(() => resolve(onTimeout), timeoutMs);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckState> {
  return within(
    check.isReady().then((isReady): CheckState => (isReady ? "up" : "down"), (): CheckState => "error"),
    timeoutMs,
    "timeout",
  );
}

/** Each check's details that could be read in time; a check whose details fail says so instead. */
async function readDetails(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<Record<string, object>> {
  const entries = await Promise.all(
    checks.map(async (check) => {
      if (check.details === undefined) return undefined;
      const unreadable = { error: `details not readable within ${timeoutMs} ms` };
      const details = await within(check.details().catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) })), timeoutMs, unreadable);
      return details === undefined ? undefined : ([check.name, details] as const);
    }),
  );
  return Object.fromEntries(entries.filter((entry) => entry !== undefined));
}

/**
 * /healthz says the process is alive (an orchestrator restarts it otherwise); /readyz says it can do its
 * job now, i.e. every dependency answers (an orchestrator routes no traffic to it otherwise). Keeping the
 * two apart stops a ClickHouse outage from turning into a restart loop.
 */
export function registerHealthRoutes(app: FastifyInstance, checks: readonly ReadinessCheck[], checkTimeoutMs: number): void {
  // Probes must keep working when an operator turns auth on.
  app.get("/healthz", { config: { scope: "open" } }, (_request, reply) => reply.send({ status: "alive" }));

  app.get("/readyz", { config: { scope: "open" } }, async (_request, reply) => {
    const [states, details] = await Promise.all([
      Promise.all(checks.map(async (check) => [check.name, await runCheck(check, checkTimeoutMs)] as const)),
      readDetails(checks, checkTimeoutMs),
    ]);
    const failing = states.filter(([, state]) => state !== "up");
    const checkStates = Object.fromEntries(states);
    const withDetails = Object.keys(details).length === 0 ? {} : { details };
    if (failing.length === 0) return { status: "ready", checks: checkStates, ...withDetails };
    const detail = failing.map(([name, state]) => `${name} is ${state === "timeout" ? `not answering within ${checkTimeoutMs} ms` : state}`).join(", ");
    const error = createError("MS_NOT_READY", { detail });
    return reply.code(error.statusCode).header("retry-after", "1").send({ ...errorBody(error), checks: checkStates, ...withDetails });
  });
}
