import type { ProbeResult } from "../../core/model/probe.ts";
import type { ProbeCatalog } from "../catalog.ts";
import type { OnDemandRuns } from "./on-demand.ts";

export interface ReleaseRunRequest {
  /** The released service: every case bound to it runs. */
  service: string;
  /** Only these of them, when given. */
  cases?: readonly string[];
}

/**
 * Runs the cases bound to a released service now, against all their targets, and resolves with every
 * result: what the release gate asks before it answers (analyzer/gate; cli.ts connects the two). The runs
 * are on-demand runs, so they share that bound (TooManyRunsError when full) and join a run of the same
 * case and target already going instead of doubling it.
 */
export function releaseRunner(catalog: ProbeCatalog, onDemand: OnDemandRuns): (request: ReleaseRunRequest) => Promise<ProbeResult[]> {
  return async ({ service, cases }) => {
    const selected = catalog.boundTo(service).filter((probe) => cases === undefined || cases.includes(probe.name));
    const runs = selected.map((probe) => onDemand.start(probe));
    return (await Promise.all(runs.map((run) => run.done))).flat();
  };
}
