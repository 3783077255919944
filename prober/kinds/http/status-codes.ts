import { InvalidProbeSpecError } from "../kind.ts";

/** One accepted status range, inclusive; "2xx" is 200..299, 204 is 204..204, "500-503" is 500..503. */
export interface StatusRange {
  from: number;
  to: number;
  label: string;
}

export function parseStatusRanges(values: readonly (number | string)[], field: string): StatusRange[] {
  return values.map((value, index) => {
    const text = String(value).trim();
    const range = parseOne(text);
    if (!range) throw new InvalidProbeSpecError(`${field}.${index}: expected a status code (200), a class ("2xx") or a range ("200-299"), got ${JSON.stringify(value)}`);
    return range;
  });
}

function parseOne(text: string): StatusRange | null {
  const isStatus = (code: number) => Number.isInteger(code) && code >= 100 && code <= 599;
  const exact = /^\d{3}$/.exec(text);
  if (exact) return isStatus(Number(text)) ? { from: Number(text), to: Number(text), label: text } : null;
  const statusClass = /^([1-5])xx$/i.exec(text);
  if (statusClass?.[1]) return { from: Number(statusClass[1]) * 100, to: Number(statusClass[1]) * 100 + 99, label: text.toLowerCase() };
  const span = /^(\d{3})\s*-\s*(\d{3})$/.exec(text);
  if (span?.[1] && span[2]) {
    const from = Number(span[1]);
    const to = Number(span[2]);
    return isStatus(from) && isStatus(to) && from <= to ? { from, to, label: `${from}-${to}` } : null;
  }
  return null;
}

export function isStatusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((range) => status >= range.from && status <= range.to);
}

export function describeRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((range) => range.label).join(", ");
}
