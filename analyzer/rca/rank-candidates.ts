/**
 * Ranks the walked services as root-cause candidates. The classic rule: the cause is the deepest
 * unhealthy dependency whose own dependencies are healthy, because failures propagate up the call
 * chain (callers of a broken service fail too) and never down. A service with an unhealthy callee is
 * kept, but discounted by how much that callee explains: a caller far sicker than its callee likely
 * has a problem of its own. When every unhealthy service has an unhealthy callee (a cycle), nothing is
 * discounted and the anomaly alone decides.
 */
import type { AnomalyScore } from "./anomaly.ts";
import type { WalkedService } from "./topology-walk.ts";

export interface Candidate {
  service: string;
  depth: number;
  anomaly: AnomalyScore;
  /** Unhealthy callees found in the walk, sorted. */
  unhealthyCallees: string[];
  /** 0..1: the anomaly, discounted when unhealthy callees explain it. */
  score: number;
}

/** How much of a caller's anomaly an equally sick callee explains away. */
const EXPLAINED_DISCOUNT = 0.8;

export function rankCandidates(
  walked: readonly WalkedService[],
  anomalies: ReadonlyMap<string, AnomalyScore>,
  callees: ReadonlyMap<string, ReadonlySet<string>>,
  unhealthyScore: number,
): Candidate[] {
  const isUnhealthy = (service: string): boolean => (anomalies.get(service)?.score ?? 0) >= unhealthyScore;
  const unhealthy = walked.filter(({ service }) => isUnhealthy(service));
  const candidates = unhealthy.map(({ service, depth }) => {
    const anomaly = anomalies.get(service) as AnomalyScore;
    const sickCallees = [...(callees.get(service) ?? [])].filter((callee) => callee !== service && isUnhealthy(callee)).sort();
    return { service, depth, anomaly, unhealthyCallees: sickCallees, score: anomaly.score };
  });
  const hasHealthyBottom = candidates.some((candidate) => candidate.unhealthyCallees.length === 0);
  if (hasHealthyBottom) {
    for (const candidate of candidates) {
      if (candidate.unhealthyCallees.length === 0) continue;
      const worstCallee = Math.max(...candidate.unhealthyCallees.map((callee) => anomalies.get(callee)?.score ?? 0));
      const explained = Math.min(1, worstCallee / candidate.anomaly.score);
      candidate.score = candidate.anomaly.score * (1 - EXPLAINED_DISCOUNT * explained);
    }
  }
  // Ties go to the deeper service (closer to the cause), then by name so verdicts are reproducible.
  return candidates.sort((a, b) => b.score - a.score || b.depth - a.depth || a.service.localeCompare(b.service));
}
