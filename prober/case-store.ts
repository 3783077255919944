/**
 * Cases defined through the API live in the "probe-cases" state namespace (core/state/port.ts), one key per
 * case: in a file for one process, in Redis for replicas, which then all see them at once.
 */
export const CASE_KEY_PREFIX = "case/";

/** Before the state port, the file held a JSON list of definitions: read it as keys once. */
export function legacyCaseFile(parsed: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(parsed)) return undefined;
  const entries: Record<string, unknown> = {};
  for (const definition of parsed as Array<{ name?: unknown }>) if (typeof definition.name === "string") entries[CASE_KEY_PREFIX + definition.name] = definition;
  return entries;
}
