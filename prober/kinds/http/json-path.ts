import { InvalidProbeSpecError } from "../kind.ts";

/**
 * A tiny JSONPath subset, enough for health bodies: `$`, `.name`, `["name"]` and `[index]`, e.g.
 * `$.checks[0].status`. Filters and wildcards are left out on purpose: one path names one value, so
 * "equals" and "exists" have one clear meaning.
 */
export type JsonPathStep = { type: "key"; key: string } | { type: "index"; index: number };

export interface JsonPath {
  text: string;
  steps: JsonPathStep[];
}

const STEP = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\])/;

export function parseJsonPath(text: string, field: string): JsonPath {
  if (!text.startsWith("$")) throw new InvalidProbeSpecError(`${field}: a JSON path starts with "$", e.g. "$.status"`);
  const steps: JsonPathStep[] = [];
  let rest = text.slice(1);
  while (rest.length > 0) {
    const match = STEP.exec(rest);
    if (!match) throw new InvalidProbeSpecError(`${field}: cannot read ${JSON.stringify(rest)} in ${JSON.stringify(text)}; supported: .name, ["name"], [0]`);
    if (match[1] !== undefined) steps.push({ type: "key", key: match[1] });
    else if (match[2] !== undefined) steps.push({ type: "index", index: Number(match[2]) });
    else steps.push({ type: "key", key: JSON.parse(`"${match[3] ?? ""}"`) as string });
    rest = rest.slice(match[0].length);
  }
  return { text, steps };
}

/** The value at `path`, or `{ found: false }` when any step is missing. */
export function evaluateJsonPath(document: unknown, path: JsonPath): { found: true; value: unknown } | { found: false } {
  let current: unknown = document;
  for (const step of path.steps) {
    if (step.type === "index") {
      if (!Array.isArray(current) || step.index >= current.length) return { found: false };
      current = (current as unknown[])[step.index];
    } else {
      if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, step.key)) return { found: false };
      current = (current as Record<string, unknown>)[step.key];
    }
  }
  return { found: true, value: current };
}
