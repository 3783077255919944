/**
 * Durations in probe case definitions: "500ms", "30s", "5m", "1h" (blackbox exporter and Kuberhealthy
 * write them the same way). A bare number is refused: "30" could mean seconds or milliseconds.
 */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or null when `text` is not a duration. */
export function parseDurationMs(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match?.[1] || !match[2]) return null;
  const ms = Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}
