/** A manual decision on a gate: force pass (`open`) or fail (`close`) until it expires. */
export interface GateOverride {
  gate: string;
  action: "open" | "close";
  reason: string;
  /** The token name that set it. */
  by: string;
  createdAtMs: number;
  expiresAtMs: number;
}

/**
 * Gates defined through the API and overrides live in the "gates" state namespace (core/state/port.ts), one
 * key each: in a file for one process, in Redis for replicas, which then all see them at once.
 */
export const GATE_KEY_PREFIX = "gate/";
export const OVERRIDE_KEY_PREFIX = "override/";

/** Before the state port, one file held `{"gates": [...], "overrides": [...]}`: read it as keys once. */
export function legacyGateFile(parsed: unknown): Record<string, unknown> | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { gates, overrides } = parsed as { gates?: unknown; overrides?: unknown };
  if (!Array.isArray(gates) || !Array.isArray(overrides)) return undefined;
  const entries: Record<string, unknown> = {};
  for (const gate of gates as Array<{ name?: unknown }>) if (typeof gate.name === "string") entries[GATE_KEY_PREFIX + gate.name] = gate;
  for (const override of overrides as GateOverride[]) entries[OVERRIDE_KEY_PREFIX + override.gate] = override;
  return entries;
}
