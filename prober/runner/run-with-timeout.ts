import type { ProbeContext, ProbeKind, ProbeOutcome } from "../kinds/kind.ts";

/** What a run may use besides its deadline: the egress policy, the probe files directory, the bounded regex matcher. */
export type RunAllowances = Pick<ProbeContext, "egress" | "files" | "patterns">;

/**
 * Runs a kind once under a hard deadline. The kind gets an AbortSignal at `timeoutMs`; one that ignores
 * it (a stuck run) is abandoned `stuckGraceMs` later and reported as `timeout`, so one hung target can
 * never hold a worker slot or a schedule forever. A kind that throws is reported as `error`: the probe
 * infrastructure failed, which is not the same as the target being unhealthy.
 */
export async function runWithTimeout(kind: ProbeKind<unknown>, spec: unknown, target: string, timeoutMs: number, stuckGraceMs: number, allowances: RunAllowances): Promise<ProbeOutcome> {
  const controller = new AbortController();
  let abortTimer: NodeJS.Timeout | undefined;
  let stuckTimer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<ProbeOutcome>((resolve) => {
    abortTimer = setTimeout(() => {
      controller.abort(new Error(`probe timed out after ${timeoutMs}ms`));
      stuckTimer = setTimeout(() => {
        resolve(emptyOutcome("timeout", `timed out after ${timeoutMs}ms (the ${kind.name} run did not stop when aborted)`));
      }, stuckGraceMs);
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([kind.run(spec, target, { signal: controller.signal, timeoutMs, ...allowances }), abandoned]);
    if (controller.signal.aborted && outcome.status !== "success") {
      return { ...outcome, status: "timeout", message: outcome.message === "" ? `timed out after ${timeoutMs}ms` : outcome.message };
    }
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (controller.signal.aborted) return emptyOutcome("timeout", `timed out after ${timeoutMs}ms: ${message}`);
    return emptyOutcome("error", `${kind.name} probe failed to run: ${message}`);
  } finally {
    clearTimeout(abortTimer);
    clearTimeout(stuckTimer);
  }
}

export function emptyOutcome(status: ProbeOutcome["status"], message: string): ProbeOutcome {
  return { status, message, phases: {}, metrics: {} };
}
