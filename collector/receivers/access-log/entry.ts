import type { AccessLogEntry } from "../../../core/model/access-log.ts";

/**
 * A fresh entry with every field set to its "absent" value. Every parser starts from this literal so all
 * entries share one hidden class (core/model/access-log.ts: no undefined, fixed shape) and the aggregation
 * hot path stays monomorphic.
 */
export function newAccessLogEntry(): AccessLogEntry {
  return {
    startTimeMs: -1,
    protocol: "tcp",
    upstreamCluster: "",
    downstreamRemoteAddress: "",
    downstreamDirectRemoteAddress: "",
    downstreamLocalAddress: "",
    upstreamRemoteAddress: "",
    upstreamLocalAddress: "",
    method: "",
    scheme: "",
    authority: "",
    path: "",
    responseCode: 0,
    responseFlags: "",
    durationMs: -1,
    timeToLastDownstreamTxMs: -1,
    upstreamLatencyMs: -1,
    bytesReceived: 0,
    bytesSent: 0,
    requestId: "",
    userAgent: "",
    traceId: "",
    tlsMode: "none",
    requestedServerName: "",
    downstreamPeer: null,
    upstreamPeer: null,
  };
}

/** Why a line was rejected; the `reason` label of `meshsight_rejected_total{source="access-log"}`. */
export type LineRejectReason =
  | "empty_line"
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
