import type { FastifyInstance } from "fastify";
import { createError, errorBody } from "./errors.ts";

/** One dependency /readyz asks; `isReady` is the adapter's cheap ping. */
export interface ReadinessCheck {
  name: string;
  isReady: () => Promise<boolean>;
}

type CheckState = "up" | "down" | "timeout" | "error";

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckState>((resolve) => {
    // Not unref'd: the request waiting on this answer must keep the process alive (inject has no socket).
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    return await Promise.race([check.isReady().then((isReady): CheckState => (isReady ? "up" : "down"), (): CheckState => "error"), timeout]);
  } finally {
    clearTimeout(timer);
  }
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
    const states = await Promise.all(checks.map(async (check) => [check.name, await runCheck(check, checkTimeoutMs)] as const));
    const failing = states.filter(([, state]) => state !== "up");
    const checkStates = Object.fromEntries(states);
    if (failing.length === 0) return { status: "ready", checks: checkStates };
    const detail = failing.map(([name, state]) => `${name} is ${state === "timeout" ? `not answering within ${checkTimeoutMs} ms` : state}`).join(", ");
    const error = createError("MS_NOT_READY", { detail });
    return reply.code(error.statusCode).header("retry-after", "1").send({ ...errorBody(error), checks: checkStates });
  });
}
