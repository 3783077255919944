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
