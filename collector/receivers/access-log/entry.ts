import type { AccessLogEntry } from "../../../core/model/access-log.ts";

/** Why a line was rejected; the `reason` label of `meshsight_rejected_total{source="access-log"}`. */
export type LineRejectReason =
  | "line_too_long"
  | "invalid_utf8"
  | "field_count"
  | "bad_start_time"
  | "bad_number"
  | "bad_duration"
  | "malformed_json";

/** A parser for one line held in `text[start, end)`; returns the entry or why the line was rejected. */
export interface LineParser {
  parse(text: string, start: number, end: number): AccessLogEntry | LineRejectReason;
}
