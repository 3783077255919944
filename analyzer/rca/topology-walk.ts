/**
 * Walks from the symptomatic services to their dependencies (callees), breadth first, so every service
 * gets its shortest distance from a symptom. A visited set makes cycles (A -> B -> A, retries through a
 * gateway) terminate; depth and service caps bound the walk on any mesh.
 */
export interface WalkedService {
  service: string;
  /** Hops from the nearest symptomatic service (0 for a symptomatic service itself). */
  depth: number;
  /** The service it was reached from (null for a symptomatic one): the path a verdict can show. */
  via: string | null;
}

export interface WalkResult {
  services: WalkedService[];
  /** true when a cap stopped the walk before it ran out of dependencies. */
  isTruncated: boolean;
}

export function walkDependencies(
  symptomatic: readonly string[],
  callees: ReadonlyMap<string, ReadonlySet<string>>,
  limits: { maxServices: number; maxDepth: number },
): WalkResult {
  const reached = new Map<string, WalkedService>();
  let frontier: string[] = [];
  let isTruncated = false;
  for (const service of symptomatic) {
    if (reached.has(service)) continue;
    if (reached.size >= limits.maxServices) {
      isTruncated = true;
      break;
    }
    reached.set(service, { service, depth: 0, via: null });
    frontier.push(service);
  }
  for (let depth = 1; frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const service of frontier) {
      for (const callee of [...(callees.get(service) ?? [])].sort()) {
        if (reached.has(callee)) continue;
        if (depth > limits.maxDepth || reached.size >= limits.maxServices) {
          isTruncated = true;
          continue;
        }
        reached.set(callee, { service: callee, depth, via: service });
        next.push(callee);
      }
    }
    frontier = next;
  }
  return { services: [...reached.values()], isTruncated };
}

/** The call path from a symptomatic service down to `service`, e.g. productpage -> reviews -> ratings. */
export function pathTo(service: string, walked: ReadonlyMap<string, WalkedService>): string[] {
  const path: string[] = [];
  for (let step = walked.get(service); step !== undefined && path.length <= walked.size; step = step.via === null ? undefined : walked.get(step.via)) {
    path.unshift(step.service);
  }
  return path;
}
