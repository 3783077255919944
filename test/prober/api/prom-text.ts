/** One sample of Prometheus text exposition format 0.0.4. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict-enough parser for tests: every non-comment line must be `name{labels} value`, or it throws. */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || !match[3]) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ""] = unescapeLabelValue(pair[2] ?? "");
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== "NaN") throw new Error(`bad sample value in ${JSON.stringify(line)}`);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** A label value as written, with the format's escapes (`\\`, `\"`, `\n`) turned back into what they stand for. */
function unescapeLabelValue(escaped: string): string {
  return escaped.replace(/\\(["\\n])/g, (_, character: string) => (character === "n" ? "\n" : character));
}

export function sampleValue(samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}
