/**
 * How both adapters merge an entity's attributes: each key keeps the value of the latest row that carried
 * it, so a later row with fewer attributes (a span-derived instance, seen after the ALS stream described
 * the pod) never blanks what an earlier row reported. Adapters keep one stored row per key for that
 * (`entity_attributes`); `latestRow` is the entity row's own attributes, the only source for entities
 * written before per-key rows existed, and never newer than the per-key rows that follow it.
 */
export function mergedAttributes(latestRow: Readonly<Record<string, string>>, keys: readonly string[], values: readonly string[]): Record<string, string> {
  const merged: Record<string, string> = { ...latestRow };
  keys.forEach((key, index) => {
    merged[key] = values[index] ?? "";
  });
  return merged;
}
