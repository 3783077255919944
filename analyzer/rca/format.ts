/** How verdicts print numbers, so reasons and evidence read the same everywhere. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

export function milliseconds(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}
