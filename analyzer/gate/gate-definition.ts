import { z } from "zod";

/**
 * A release gate (docs/gating.md): which service (and canary version) it guards, the probe cases to run,
 * and the SLO checks over a window of live metrics. Gates come from YAML files and from the API; both go
 * through `parseGate`, so a bad field reads the same from either.
 */

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** "30s", "5m", "1h" -> ms; null otherwise. A bare number is refused: seconds or minutes? */
export function parseDurationMs(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match?.[1] || !match[2]) return null;
  return Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN);
}

const MAX_WINDOW_MS = 24 * 3_600_000;

const windowField = z
  .string({ error: 'expected a duration such as "5m"' })
  .refine((text) => {
    const ms = parseDurationMs(text);
    return ms !== null && ms >= 60_000 && ms <= MAX_WINDOW_MS;
  }, { error: 'expected a duration from "1m" to "24h", such as "5m" (metrics are kept per minute)' })
  .default("5m");

const nameField = z.string({ error: "expected a name" }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: "expected letters, digits, '.', '_' or '-' (at most 128)" });
const labelValue = z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" }).max(256);

export const gateDefinitionSchema = z
  .strictObject({
    name: nameField,
    description: z.string().max(1_000).optional(),
    /** The service as meshsight names it: `<name>.<namespace>`. */
    service: labelValue,
    /** The canary: instances whose `versionAttribute` equals this; without it the whole service is judged. */
    version: labelValue.optional(),
    /** What the canary is compared with; default: every other instance of the service. */
    stableVersion: labelValue.optional(),
    /** The instance attribute holding the version (the collector sets `version` from Istio's canonical revision). */
    versionAttribute: labelValue.default("version"),
    /** Probe cases to run; default: every case bound to the service. */
    cases: z.array(labelValue).max(100).optional(),
    window: windowField,
    /** Fewer calls than this in the window: "insufficient-data" (the caller retries) instead of a guess. */
    minCalls: z.int({ error: "expected an integer >= 0" }).min(0).max(1_000_000_000).default(20),
    slo: z
      .strictObject({
        /** Success percentage, e.g. 99.5. */
        minSla: z.number().min(0).max(100).optional(),
        maxP99Ms: z.number().positive().optional(),
        /** How many percentage points the canary's error rate may exceed the stable version's by. */
        maxErrorRateIncrease: z.number().min(0).max(100).optional(),
      })
      .default({}),
    /** Flagger canary this gate answers for when the webhook URL names no gate (`POST /api/v1/flagger/gate`). */
    flagger: z.strictObject({ name: labelValue, namespace: labelValue }).optional(),
  })
  .refine((gate) => gate.slo.maxErrorRateIncrease === undefined || gate.version !== undefined, {
    error: "slo.maxErrorRateIncrease compares the canary with the stable version, so the gate needs a version",
    path: ["slo", "maxErrorRateIncrease"],
  });

export type GateDefinition = z.output<typeof gateDefinitionSchema>;

export class InvalidGateError extends Error {
  override readonly name = "InvalidGateError";
}

/** Validates a gate; `where` prefixes errors ("gates.yaml:12" or "PUT /api/v1/gates/x"). */
export function parseGate(raw: unknown, where: string): GateDefinition {
  const result = gateDefinitionSchema.safeParse(raw);
  if (result.success) return result.data;
  const name = typeof raw === "object" && raw !== null && "name" in raw ? ` "${String((raw).name)}"` : "";
  const issues = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(gate)"}: ${issue.message}`);
  throw new InvalidGateError(`${where}: gate${name} ${issues.join("; ")}`);
}

export function windowMsOf(gate: GateDefinition): number {
  return parseDurationMs(gate.window) ?? 300_000;
}

export function hasSloChecks(gate: GateDefinition): boolean {
  const { minSla, maxP99Ms, maxErrorRateIncrease } = gate.slo;
  return minSla !== undefined || maxP99Ms !== undefined || maxErrorRateIncrease !== undefined;
}
