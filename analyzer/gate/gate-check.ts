/** The outcome of one check of a gate; "no-data" means too little evidence to decide (the caller retries). */
export type CheckStatus = "ok" | "fail" | "no-data";

export interface GateCheckResult {
  name: string;
  status: CheckStatus;
  observed: number | string | null;
  expected: string;
  message: string;
}

export type Verdict = "pass" | "fail" | "insufficient-data";

/** Any failing check fails the gate; otherwise any check without data makes it undecided. */
export function verdictOf(checks: readonly GateCheckResult[]): Verdict {
  if (checks.some((check) => check.status === "fail")) return "fail";
  if (checks.some((check) => check.status === "no-data")) return "insufficient-data";
  return "pass";
}

/** The API's shape of a check (docs/gating.md): `ok` is true only for a passed check. */
export function checkView(check: GateCheckResult): { name: string; ok: boolean; observed: number | string | null; expected: string; message: string } {
  return { name: check.name, ok: check.status === "ok", observed: check.observed, expected: check.expected, message: check.message };
}

/** Rounds figures shown to people and tools: 99.87654 -> 99.877. */
export function rounded(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}
