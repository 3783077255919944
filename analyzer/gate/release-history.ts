import type { AuditLog, AuditRecord } from "./audit-log.ts";
import type { GateCatalog } from "./gate-catalog.ts";

/** One audited act on a gate of a service: what the analysis cites as a release change near a symptom's start. */
export interface ReleaseAct {
  gate: string;
  action: AuditRecord["action"];
  /** api, flagger or argo. */
  via: string;
  who: string;
  atMs: number;
  /** A check's verdict ("" for other acts). */
  verdict: string;
  /** The Flagger phase the webhook reported ("" when not called by Flagger). */
  phase: string;
}

export type ReleaseHistory = (service: string, fromMs: number, toMs: number) => Promise<ReleaseAct[]>;

/**
 * The acts on the gates that guard `service` within [fromMs, toMs], oldest first, from this process's recent
 * audit records (bounded by the audit log's recent list). A gate is matched by its current definition, so acts
 * on a deleted gate are not found.
 */
export function releaseHistory(audit: AuditLog, catalog: GateCatalog): ReleaseHistory {
  return (service, fromMs, toMs) => {
    const acts = audit
      .recent(Number.MAX_SAFE_INTEGER)
      .filter((record) => record.atMs >= fromMs && record.atMs <= toMs && catalog.get(record.gate)?.definition.service === service)
      .map((record): ReleaseAct => ({ gate: record.gate, action: record.action, via: record.via, who: record.who, atMs: record.atMs, verdict: textOf(record.evidence["verdict"]), phase: flaggerPhaseOf(record.evidence) }));
    return Promise.resolve(acts.reverse());
  };
}

function flaggerPhaseOf(evidence: Record<string, unknown>): string {
  const flagger = evidence["flagger"];
  return typeof flagger === "object" && flagger !== null ? textOf((flagger as Record<string, unknown>)["phase"]) : "";
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}
