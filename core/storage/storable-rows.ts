import type { EntityRecord } from "../model/dimensions.ts";
import type { MinuteMetrics } from "../model/metrics.ts";
import type { ProbeResult } from "../model/probe.ts";
import type { SampledRecord } from "../model/sample.ts";
import type { Span } from "../model/span.ts";

/**
 * Values made valid before any storage sees them: every text field of every row kind, in the one place
 * both adapters' writes go through (write-guard.ts). A lone UTF-16 surrogate (JSON clients can send
 * `"\ud800"`, and a cut through a surrogate pair makes one) becomes U+FFFD, as a UTF-8 decoder does with
 * invalid bytes: ClickHouse refuses a whole insert over one, and UTF-8 text cannot hold it anyway. Text
 * longer than its cap is cut, never inside a surrogate pair. Strings decoded from bytes already carry
 * U+FFFD for invalid UTF-8 (Buffer#toString), so well-formed UTF-16 is all that is left to ensure.
 */

/** Names and keys (service, endpoint, trace id, attribute keys...): far above any real one, and bounded. */
export const MAX_NAME_CHARS = 16_384;
/** Free text (raw records, messages, attribute values). */
export const MAX_TEXT_CHARS = 65_536;

export type RepairReason = "lone_surrogate" | "too_long";

/** Told about every value changed, so repairs are counted rather than silent. */
export type OnRepair = (reason: RepairReason) => void;

// String.prototype.isWellFormed / toWellFormed are in Node >= 20 (ES2024); the project's lib is ES2023.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

export function storableText(value: string, maxChars: number, onRepair: OnRepair): string {
  let text = value;
  if (!text.isWellFormed()) {
    onRepair("lone_surrogate");
    text = text.toWellFormed();
  }
  if (text.length > maxChars) {
    onRepair("too_long");
    // Cutting between the halves of a pair would leave a lone high surrogate at the end.
    const last = text.charCodeAt(maxChars - 1);
    text = text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars);
  }
  return text;
}

function needsRepair(value: unknown, maxChars: number): value is string {
  return typeof value === "string" && (value.length > maxChars || !value.isWellFormed());
}

/** A row kind's text fields with their caps, and its records (text keys; text values unless `numberRecords`). */
export interface TextLayout<Row> {
  texts: ReadonlyArray<readonly [keyof Row & string, number]>;
  records: ReadonlyArray<keyof Row & string>;
  /** Records whose values are numbers: only their keys are text. */
  numberRecords?: ReadonlyArray<keyof Row & string>;
}

const N = MAX_NAME_CHARS;
const T = MAX_TEXT_CHARS;

/** The row kinds storage takes. */
export interface RowTypes {
  metric: MinuteMetrics;
  entity: EntityRecord;
  sample: SampledRecord;
  span: Span;
  probe_result: ProbeResult;
}

export type RowKind = keyof RowTypes;

export const ROW_LAYOUTS: { readonly [Kind in RowKind]: TextLayout<RowTypes[Kind]> } = {
  metric: { texts: [["scope", N], ["service", N], ["name", N], ["detectPoint", N], ["component", N]], records: [] },
  entity: { texts: [["kind", N], ["service", N], ["name", N], ["layer", N]], records: ["attributes"] },
  sample: {
    texts: [["service", N], ["instance", N], ["endpoint", N], ["detectPoint", N], ["peerService", N], ["responseFlags", N], ["reason", N], ["requestId", N], ["traceId", N], ["raw", T]],
    records: [],
  },
  span: {
    texts: [["traceId", N], ["spanId", N], ["parentSpanId", N], ["name", N], ["kind", N], ["service", N], ["instance", N], ["endpoint", N], ["peerService", N], ["statusMessage", T]],
    records: ["attributes", "resourceAttributes"],
  },
  probe_result: { texts: [["runId", N], ["probe", N], ["kind", N], ["target", N], ["service", N], ["message", T]], records: ["labels"], numberRecords: ["phases"] },
};

/**
 * The rows with every text value valid. A row that needs no change is returned as is (the common case
 * allocates nothing); one that does is copied. Values that are not strings are left for the adapters'
 * own checks to refuse.
 */
export function storableRows<Row extends object>(layout: TextLayout<Row>, rows: readonly Row[], onRepair: OnRepair): readonly Row[] {
  let result: Row[] | undefined;
  rows.forEach((row, index) => {
    const repaired = storableRow(layout, row, onRepair);
    if (repaired === row) return;
    result ??= rows.slice();
    result[index] = repaired;
  });
  return result ?? rows;
}

function storableRow<Row extends object>(layout: TextLayout<Row>, row: Row, onRepair: OnRepair): Row {
  if (row === null || typeof row !== "object") return row;
  const fields = row as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  const replace = (field: string, value: unknown): void => {
    copy ??= { ...fields };
    copy[field] = value;
  };
  for (const [field, maxChars] of layout.texts) {
    const value = fields[field];
    if (needsRepair(value, maxChars)) replace(field, storableText(value, maxChars, onRepair));
  }
  for (const field of layout.records) {
    const record = storableRecord(fields[field], MAX_TEXT_CHARS, onRepair);
    if (record !== fields[field]) replace(field, record);
  }
  for (const field of layout.numberRecords ?? []) {
    const record = storableRecord(fields[field], undefined, onRepair);
    if (record !== fields[field]) replace(field, record);
  }
  return (copy as Row | undefined) ?? row;
}

/** Keys capped as names, string values (when `maxValueChars` is given) as text; keys that collide once repaired keep the last value. */
function storableRecord(record: unknown, maxValueChars: number | undefined, onRepair: OnRepair): unknown {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return record;
  const values = record as Record<string, unknown>;
  if (isCleanRecord(values, maxValueChars)) return record;
  const repaired: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const storableKey = needsRepair(key, MAX_NAME_CHARS) ? storableText(key, MAX_NAME_CHARS, onRepair) : key;
    repaired[storableKey] = maxValueChars !== undefined && needsRepair(value, maxValueChars) ? storableText(value, maxValueChars, onRepair) : value;
  }
  return repaired;
}

/** Checked without allocating: spans carry a few records each, and almost all are clean. */
function isCleanRecord(record: Record<string, unknown>, maxValueChars: number | undefined): boolean {
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (needsRepair(key, MAX_NAME_CHARS)) return false;
    if (maxValueChars !== undefined && needsRepair(record[key], maxValueChars)) return false;
  }
  return true;
}
