import type { ProbeResult } from "../../core/model/probe.ts";
import type { GateCheckResult } from "./gate-check.ts";
import type { GateDefinition } from "./gate-definition.ts";
import { TtlCache, type Cached } from "./ttl-cache.ts";

export interface ReleaseProbeRequest {
  service: string;
  version?: string;
  /** Only these cases; all cases bound to the service when absent. */
  cases?: readonly string[];
  signal: AbortSignal;
}

/** Runs the probe cases of a release now and resolves with every result (cli.ts wires it to the prober). */
export type RunReleaseProbes = (request: ReleaseProbeRequest) => Promise<ProbeResult[]>;

export interface ReleaseProbeCacheOptions {
  run: RunReleaseProbes;
  /** How long a finished run answers later checks of the same service, version and cases (0: never). */
  ttlMs: number;
  timeoutMs: number;
  maxEntries: number;
  now: () => number;
}

/**
 * Release probes with a short-lived result cache: Flagger calls every rollout webhook each interval and
 * Argo measures every few seconds, and neither should start a new probe run per call. Calls that arrive
 * while a run is in flight share it; failed runs are not cached.
 */
export class ReleaseProbeCache {
  private readonly cache: TtlCache<ProbeResult[]>;

  constructor(private readonly options: ReleaseProbeCacheOptions) {
    this.cache = new TtlCache(options);
  }

  results(gate: GateDefinition): Promise<Cached<ProbeResult[]>> {
    const key = JSON.stringify([gate.service, gate.version ?? "", [...(gate.cases ?? [])].sort()]);
    return this.cache.get(key, () =>
      this.options.run({
        service: gate.service,
        ...(gate.version === undefined ? {} : { version: gate.version }),
        ...(gate.cases === undefined ? {} : { cases: gate.cases }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      }),
    );
  }
}

/**
 * One check per probe case. A failure or timeout fails it (the target is unhealthy); an `error` (the probe
 * could not run at all) is "no-data": it says nothing about the release. A named case that did not run
 * fails, since a gate that silently skips a probe would pass releases it was meant to stop.
 */
export function probeChecks(gate: GateDefinition, results: readonly ProbeResult[], hasOtherChecks: boolean): GateCheckResult[] {
  const byCase = new Map<string, ProbeResult[]>();
  for (const result of results) byCase.set(result.probe, [...(byCase.get(result.probe) ?? []), result]);
  const checks: GateCheckResult[] = [];
  for (const name of gate.cases ?? []) {
    if (!byCase.has(name)) checks.push({ name: `probe:${name}`, status: "fail", observed: null, expected: "every target succeeds", message: `probe case ${name} did not run: is it defined and bound to ${gate.service}?` });
  }
  for (const [name, caseResults] of [...byCase].sort(([a], [b]) => a.localeCompare(b))) checks.push(caseCheck(name, caseResults));
  if (checks.length === 0) {
    const message = `no probe cases are bound to ${gate.service}`;
    checks.push({ name: "probes", status: hasOtherChecks ? "ok" : "no-data", observed: 0, expected: "probe cases or SLO checks to decide on", message: hasOtherChecks ? `${message}; the SLO checks decide` : `${message} and the gate has no SLO checks: nothing to decide on` });
  }
  return checks;
}

function caseCheck(name: string, results: readonly ProbeResult[]): GateCheckResult {
  const passed = results.filter((result) => result.status === "success").length;
  const unhealthy = results.filter((result) => result.status === "failure" || result.status === "timeout");
  const broken = results.filter((result) => result.status === "error");
  const observed = `${passed}/${results.length} targets succeeded`;
  const expected = "every target succeeds";
  if (unhealthy.length > 0) return { name: `probe:${name}`, status: "fail", observed, expected, message: describe(unhealthy) };
  if (broken.length > 0) return { name: `probe:${name}`, status: "no-data", observed, expected, message: `the probe could not run: ${describe(broken)}` };
  return { name: `probe:${name}`, status: "ok", observed, expected, message: `${results.length} target(s) passed` };
}

function describe(results: readonly ProbeResult[]): string {
  const shown = results.slice(0, 5).map((result) => `${result.target}: ${result.status}: ${result.message}`);
  return results.length > shown.length ? `${shown.join("; ")}; and ${results.length - shown.length} more` : shown.join("; ");
}
