/**
 * The SDK a custom probe case is written against. A case file default-exports `defineProbe({ name, run })`;
 * the `script` probe kind loads it in an isolated child process and calls `run(ctx)` once per target.
 *
 *   import { defineProbe } from "meshsight/prober/sdk/define-probe.ts";
 *   export default defineProbe({
 *     name: "checkout-login",
 *     async run(ctx) {
 *       const response = await ctx.check("login page", async () => {
 *         const response = await ctx.http(`${ctx.target}/login`);
 *         if (response.status !== 200) throw new Error(`expected 200, got ${response.status}`);
 *         return response;
 *       });
 *       ctx.log(`login answered in ${response.headers.get("server-timing") ?? "?"}`);
 *     },
 *   });
 *
 * The run passes when `run` returns and every check passed; a failed check or a throw fails it.
 */

/** What a case gets for one run. */
export interface ProbeScriptContext {
  /** The target this run checks, as written in the case's `targets`. */
  readonly target: string;
  /** Aborts at the run's timeout; pass it on to anything that waits (ctx.http already does). */
  readonly signal: AbortSignal;
  /** A line for the run's log (kept bounded; long lines are cut). */
  log(message: string): void;
  /** `fetch`, bound to the run's signal so nothing outlives the timeout. */
  http(url: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * A named step: its duration and pass/fail are recorded. A step fails when `step` throws or rejects;
   * the error is rethrown so the run stops there (later steps usually depend on this one).
   */
  check<T>(name: string, step: () => T | Promise<T>): Promise<T>;
}

export interface ProbeScript {
  /** Names the case in logs and messages; lower-case letters, digits, '.', '_' or '-'. */
  readonly name: string;
  run(ctx: ProbeScriptContext): Promise<void> | void;
}

/** Marks a value as a probe script so the loader can tell a case file from any other module. */
const PROBE_SCRIPT_BRAND = Symbol.for("meshsight.probeScript");

export type DefinedProbeScript = ProbeScript & { readonly [PROBE_SCRIPT_BRAND]: true };

const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

export function defineProbe(script: ProbeScript): DefinedProbeScript {
  if (typeof script !== "object" || script === null) throw new TypeError("defineProbe expects { name, run(ctx) }");
  if (typeof script.name !== "string" || !NAME.test(script.name)) throw new TypeError(`defineProbe: name must be lower-case letters, digits, '.', '_' or '-', got ${JSON.stringify(script.name)}`);
  if (typeof script.run !== "function") throw new TypeError(`defineProbe(${script.name}): run must be a function`);
  return Object.freeze({ name: script.name, run: script.run.bind(script), [PROBE_SCRIPT_BRAND]: true as const });
}

export function isProbeScript(value: unknown): value is DefinedProbeScript {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PROBE_SCRIPT_BRAND] === true;
}

/** The error a failed `ctx.check` rethrows, so the runner can tell "a check failed" from "the script broke". */
export class ProbeCheckFailedError extends Error {
  override readonly name = "ProbeCheckFailedError";
  constructor(
    readonly check: string,
    readonly reason: string,
  ) {
    super(`check "${check}" failed: ${reason}`);
  }
}
