import type { Alert, RootCause } from "../../../core/model/alert.ts";
import type { NotificationChange } from "./adapter.ts";

/** The pieces every human-readable output (Slack, DingTalk, Feishu) is built from, so they all say the same. */

const MAX_EVIDENCE_LINES = 5;

/** An "updated" alert still fires; the word says the message is news about one already paged (a refined root cause). */
export function stateWord(change: NotificationChange): "FIRING" | "RESOLVED" | "UPDATED" {
  if (change === "resolved") return "RESOLVED";
  return change === "updated" ? "UPDATED" : "FIRING";
}

export function alertTitle(alert: Alert, change: NotificationChange): string {
  return `[${stateWord(change)}] ${alert.rule}: ${alert.entity}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Where a person reads the whole alert with its evidence (also Alertmanager's generatorURL). */
export function alertLink(publicUrl: string, alert: Alert): string {
  return `${publicUrl}${alert.path ?? `/api/v1/alerts/${encodeURIComponent(alert.id)}`}`;
}

/** "ratings.default (instance ratings-v1-1.default), score 0.87: errors up from 0 % to 41 %" */
export function rootCauseLine(rootCause: RootCause): string {
  const instance = rootCause.instance === "" ? "" : ` (instance ${rootCause.instance})`;
  return `${rootCause.service}${instance}, score ${rootCause.score.toFixed(2)}: ${rootCause.reason}`;
}

/** An evidence ref as a link a chat client opens: the analyzer keeps API paths, messages carry `<publicUrl><path>`. */
export function absoluteRef(publicUrl: string, ref: string): string {
  return ref.startsWith("/") ? `${publicUrl}${ref}` : ref;
}

/** The root cause as outputs send it, every evidence link absolute. */
export function withAbsoluteRefs(rootCause: RootCause, publicUrl: string): RootCause {
  return { ...rootCause, evidence: rootCause.evidence.map((evidence) => ({ ...evidence, ref: absoluteRef(publicUrl, evidence.ref) })) };
}

export function evidenceLines(rootCause: RootCause, publicUrl: string): string[] {
  return rootCause.evidence.slice(0, MAX_EVIDENCE_LINES).map((evidence) => `${evidence.kind}: ${evidence.summary}${evidence.ref === "" ? "" : ` (${absoluteRef(publicUrl, evidence.ref)})`}`);
}

/** "started 2026-01-01T10:00:00.000Z" or "started ..., resolved ..." */
export function timesLine(alert: Alert, change: NotificationChange): string {
  const started = `started ${isoTime(alert.startsAtMs)}`;
  return change === "resolved" && alert.endsAtMs > 0 ? `${started}, resolved ${isoTime(alert.endsAtMs)}` : started;
}
