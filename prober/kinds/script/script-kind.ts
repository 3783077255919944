import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import type { CheckRecord } from "../../sdk/script-context.ts";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "../kind.ts";
import { roundMs } from "../outcome.ts";
import { parseSpecWith } from "../spec-schema.ts";
import { CompiledScriptCases, ScriptCompileError } from "./compiled-cases.ts";
import type { FromScriptWorker, ScriptWorkerData, ToScriptWorker } from "./worker-protocol.ts";

export interface ScriptKindOptions {
  /** Case files are resolved under this directory and may not leave it. */
  casesDir: string;
  /** Heap limit of a case's worker when its spec gives none, and the most a spec may ask for. */
  defaultMemoryMb: number;
  maxMemoryMb: number;
  /** After the timeout the case is asked to stop; this much later its thread is terminated regardless. */
  abortGraceMs: number;
  /** Kept per run (the last ones win), so a chatty case cannot grow the parent's memory. */
  maxLogLines: number;
  maxChecks: number;
  /** Compiled cases kept for reuse; the least recently used beyond it are compiled again when next run. */
  maxCompiledCases: number;
  /** Receives a run's log lines (e.g. to forward to the logger): the first maxLogLines of each run, the rest are dropped. */
  onLog?: (line: string, target: string) => void;
  /**
   * The environment a case sees. Empty unless given: a case must not read the prober's own settings
   * (storage URLs, tokens) just because it runs in the same process.
   */
  env?: Record<string, string>;
}

export const DEFAULT_SCRIPT_KIND_OPTIONS: Omit<ScriptKindOptions, "casesDir"> = { defaultMemoryMb: 64, maxMemoryMb: 512, abortGraceMs: 200, maxLogLines: 50, maxChecks: 100, maxCompiledCases: 500 };

export interface ScriptSpec {
  /** Absolute path of the case file. */
  file: string;
  memoryMb: number;
}

const MAX_LOG_LINE_CHARS = 500;

/**
 * `script`: a case written in TypeScript against prober/sdk, run in its own worker thread with a heap
 * limit and a hard deadline. A case that loops forever, never settles or allocates without bound is
 * terminated and reported as failed; nothing it does can take the prober down.
 */
export function createScriptKind(options: ScriptKindOptions): ProbeKind<ScriptSpec> {
  const casesDir = resolve(options.casesDir);
  const programs = new CompiledScriptCases(options.maxCompiledCases);
  const schema = z.strictObject({
    file: z.string({ error: "expected the case file, relative to the cases directory" }).min(1),
    memoryLimitMb: z.int({ error: `expected an integer 8..${options.maxMemoryMb}` }).min(8).max(options.maxMemoryMb).optional(),
  });
  return {
    name: "script",
    parseSpec(raw) {
      const spec = parseSpecWith(schema, raw);
      const file = resolve(casesDir, spec.file);
      const inside = relative(casesDir, file);
      if (inside.startsWith("..") || isAbsolute(inside)) throw new InvalidProbeSpecError(`file: ${spec.file} is outside the cases directory ${casesDir}`);
      if (!/\.(ts|mts|js|mjs)$/.test(file)) throw new InvalidProbeSpecError(`file: expected a .ts, .mts, .js or .mjs file, got ${spec.file}`);
      if (!existsSync(file)) throw new InvalidProbeSpecError(`file: ${file} does not exist`);
      return { file, memoryMb: spec.memoryLimitMb ?? options.defaultMemoryMb };
    },
    async run(spec, target, context) {
      let workerUrl: URL;
      try {
        workerUrl = await programs.workerUrlFor(spec.file);
      } catch (error) {
        if (error instanceof ScriptCompileError) return { status: "error", message: `${spec.file} does not compile: ${error.message}`, phases: {}, metrics: {} };
        throw error;
      }
      return runScript(workerUrl, spec, target, context, options);
    },
  };
}

function runScript(workerUrl: URL, spec: ScriptSpec, target: string, context: ProbeContext, options: ScriptKindOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  const checks: CheckRecord[] = [];
  const logs: string[] = [];
  let done: Extract<FromScriptWorker, { type: "done" }> | undefined;
  let crash: Error | undefined;
  let timedOut = false;
  let forwarded = 0;
  const remember = (line: string) => {
    logs.push(line);
    if (logs.length > options.maxLogLines) logs.shift();
    if (forwarded < options.maxLogLines) {
      forwarded += 1;
      options.onLog?.(line, target);
    }
  };
  const workerData: ScriptWorkerData = { target, maxLogLineChars: MAX_LOG_LINE_CHARS };
  const worker = new Worker(workerUrl, {
    execArgv: [],
    workerData,
    env: { ...options.env },
    resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb, maxYoungGenerationSizeMb: Math.min(16, Math.max(4, Math.floor(spec.memoryMb / 4))), stackSizeMb: 4 },
    stdout: true,
    stderr: true,
  });
  // console output of the case becomes log lines too (bounded like ctx.log), instead of the prober's stdout.
  for (const stream of [worker.stdout, worker.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => text.split("\n").filter((line) => line !== "").forEach((line) => remember(line.slice(0, MAX_LOG_LINE_CHARS))));
  }
  return new Promise<ProbeOutcome>((resolveOutcome) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (timedOut || done) return;
      timedOut = true;
      worker.postMessage({ type: "abort" } satisfies ToScriptWorker);
      graceTimer = setTimeout(() => void worker.terminate(), options.abortGraceMs);
    };
    const deadline = setTimeout(stop, context.timeoutMs);
    if (context.signal.aborted) stop();
    else context.signal.addEventListener("abort", stop, { once: true });
    worker.on("message", (message: FromScriptWorker) => {
      if (message.type === "log") remember(message.line);
      else if (message.type === "check") {
        if (checks.length < options.maxChecks) checks.push(message.record);
      } else {
        done = message;
        // The case is over; timers or sockets it left open must not keep its thread alive.
        void worker.terminate();
      }
    });
    worker.on("error", (error: Error) => (crash = error));
    worker.on("exit", (exitCode: number) => {
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      context.signal.removeEventListener("abort", stop);
      const phases = checkPhases(checks);
      phases.total = roundMs(performance.now() - started);
      const metrics = { script_checks_passed: checks.filter((check) => check.passed).length, script_checks_failed: checks.filter((check) => !check.passed).length };
      resolveOutcome({ ...judge(spec, context, { done, crash, timedOut, exitCode, checks, logs }), phases, metrics });
    });
  });
}

interface RunFacts {
  done: Extract<FromScriptWorker, { type: "done" }> | undefined;
  crash: Error | undefined;
  timedOut: boolean;
  exitCode: number;
  checks: CheckRecord[];
  logs: string[];
}

function judge(spec: ScriptSpec, context: ProbeContext, facts: RunFacts): Pick<ProbeOutcome, "status" | "message"> {
  const lastLog = facts.logs.length > 0 ? `; last log: ${facts.logs[facts.logs.length - 1]}` : "";
  const lastCheck = facts.checks[facts.checks.length - 1];
  const where = lastCheck ? ` (last finished check: "${lastCheck.name}")` : "";
  if (facts.done?.result === "passed") return { status: "success", message: "" };
  if (facts.timedOut) return { status: "timeout", message: `killed after ${context.timeoutMs}ms: the script did not finish in time (an endless loop or an await that never settles?)${where}${lastLog}` };
  const code = (facts.crash as { code?: unknown } | undefined)?.code;
  if (code === "ERR_WORKER_OUT_OF_MEMORY") return { status: "failure", message: `killed: the script exceeded its memory limit of ${spec.memoryMb} MB (memoryLimitMb)${where}` };
  if (facts.done?.result === "failed") return { status: "failure", message: `${facts.done.message}${lastLog}` };
  if (facts.done?.result === "threw") return { status: "failure", message: `the script threw ${facts.done.message}${where}${lastLog}` };
  if (facts.done?.result === "invalid") return { status: "error", message: `${spec.file}: ${facts.done.message}` };
  if (facts.crash) return { status: "failure", message: `the script crashed: ${facts.crash.message}${where}${lastLog}` };
  return { status: "failure", message: `the script's thread exited with code ${facts.exitCode} before finishing (did it call process.exit?)${where}${lastLog}` };
}

/** Each check's duration as a phase "check:<name>"; a repeated name gets "#2", "#3"... */
function checkPhases(checks: readonly CheckRecord[]): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const check of checks) {
    let key = `check:${check.name}`;
    for (let index = 2; key in phases; index += 1) key = `check:${check.name}#${index}`;
    phases[key] = roundMs(check.durationMs);
  }
  return phases;
}
