import type { ProbeOutcome } from "./kind.ts";

/** Phase durations are reported in whole microseconds' precision; sub-µs noise only bloats storage. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function succeeded(phases: Record<string, number>, metrics: Record<string, number>): ProbeOutcome {
  return { status: "success", message: "", phases, metrics };
}

export function failed(message: string, phases: Record<string, number>, metrics: Record<string, number>): ProbeOutcome {
  return { status: "failure", message, phases, metrics };
}

/**
 * Names what stopped a run: when the runner's signal aborted, the run is a timeout and the message says
 * in which step it was, which is what an operator needs ("timed out after 2000ms waiting for the first byte").
 */
export function describeError(error: unknown, signal: AbortSignal, step: string, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs}ms ${step}`;
  const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? ` (${error.code})` : "";
  const message = error instanceof Error ? error.message : String(error);
  return `${step} failed: ${message}${code && !message.includes(code.slice(2, -1)) ? code : ""}`;
}
