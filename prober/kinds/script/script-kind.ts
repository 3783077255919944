import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { CheckRecord } from "../../sdk/script-context.ts";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "../kind.ts";
import { roundMs } from "../outcome.ts";
import { parseSpecWith } from "../spec-schema.ts";
import { CompiledScriptCases, ScriptCompileError } from "./compiled-cases.ts";
import type { FromScriptChild, ToScriptChild } from "./child-protocol.ts";

export interface ScriptKindOptions {
  /** Case files are resolved under this directory and may not leave it; at run time a case may read only files in it. */
  casesDir: string;
  /** Heap limit of a case's process when its spec gives none, and the most a spec may ask for. */
  defaultMemoryMb: number;
  maxMemoryMb: number;
  /** After the timeout the case is asked to stop; this much later its process is killed regardless. */
  abortGraceMs: number;
  /** Kept per run (the last ones win), so a chatty case cannot grow the parent's memory. */
  maxLogLines: number;
  maxChecks: number;
  /** Compiled cases kept for reuse; the least recently used beyond it are compiled again when next run. */
  maxCompiledCases: number;
  /** Receives a run's log lines (e.g. to forward to the logger): the first maxLogLines of each run, the rest are dropped. */
  onLog?: (line: string, target: string) => void;
  /**
   * The environment every case sees (prober.scriptEnv), under what its spec declares. Nothing else: a case
   * must not read the prober's own settings (storage URLs, passwords, tokens).
   */
  env?: Record<string, string>;
}

export const DEFAULT_SCRIPT_KIND_OPTIONS: Omit<ScriptKindOptions, "casesDir"> = { defaultMemoryMb: 64, maxMemoryMb: 512, abortGraceMs: 200, maxLogLines: 50, maxChecks: 100, maxCompiledCases: 500 };

export interface ScriptSpec {
  /** Absolute path of the case file. */
  file: string;
  memoryMb: number;
  /** The case's own environment variables, over prober.scriptEnv. */
  env: Record<string, string>;
}

const MAX_LOG_LINE_CHARS = 500;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What V8 prints when a heap limit is reached, before it aborts the process. */
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit/;

/** Node 20 calls the permission model experimental; later versions name the flag --permission. */
const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";

/**
 * The child's command line: the permission model with reads limited to the cases directory (`<dir>/*`,
 * Node's wildcard for everything below a directory; the bare directory next to it crashes Node 20), the heap limit, and the program on standard input as
 * an ES module. No warnings: the permission model's "experimental" notice would become a log line of every run.
 */
function childArguments(casesDir: string, memoryMb: number): string[] {
  return [
    PERMISSION_FLAG,
    `--allow-fs-read=${join(casesDir, "*")}`,
    "--no-warnings",
    `--max-old-space-size=${memoryMb}`,
    `--max-semi-space-size=${Math.min(16, Math.max(1, Math.floor(memoryMb / 8)))}`,
    "--input-type=module",
    "-",
  ];
}

/**
 * `script`: a case written in TypeScript against prober/sdk, run in its own child process with a heap
 * limit and a hard deadline. A case that loops forever, never settles or allocates without bound is
 * killed and reported as failed; nothing it does can take the prober down. The process starts with an
 * environment of only what the case declares (prober.scriptEnv and the spec's `env`) and under Node's
 * permission model reading only the cases directory: no /proc/self/environ or /proc/<prober>/environ, no
 * other files, no child processes or worker threads of its own. A worker thread would share the prober's
 * process, whose /proc/self/environ holds its ClickHouse password.
 */
export function createScriptKind(options: ScriptKindOptions): ProbeKind<ScriptSpec> {
  const casesDir = resolve(options.casesDir);
  const programs = new CompiledScriptCases(options.maxCompiledCases);
  const schema = z.strictObject({
    file: z.string({ error: "expected the case file, relative to the cases directory" }).min(1),
    memoryLimitMb: z.int({ error: `expected an integer 8..${options.maxMemoryMb}` }).min(8).max(options.maxMemoryMb).optional(),
    env: z.record(z.string().regex(ENV_NAME, { error: "expected environment variable names" }), z.string({ error: "expected NAME: value pairs" })).optional(),
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
      return { file, memoryMb: spec.memoryLimitMb ?? options.defaultMemoryMb, env: spec.env ?? {} };
    },
    async run(spec, target, context) {
      let program: string;
      try {
        program = await programs.programFor(spec.file);
      } catch (error) {
        if (error instanceof ScriptCompileError) return { status: "error", message: `${spec.file} does not compile: ${error.message}`, phases: {}, metrics: {} };
        throw error;
      }
      return runScript(program, spec, target, context, { ...options, casesDir });
    },
  };
}

function runScript(program: string, spec: ScriptSpec, target: string, context: ProbeContext, options: ScriptKindOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  const checks: CheckRecord[] = [];
  const logs: string[] = [];
  let done: Extract<FromScriptChild, { type: "done" }> | undefined;
  let crash: Error | undefined;
  let isOutOfMemory = false;
  let timedOut = false;
  let forwarded = 0;
  const remember = (line: string) => {
    if (OUT_OF_MEMORY.test(line)) isOutOfMemory = true;
    logs.push(line);
    if (logs.length > options.maxLogLines) logs.shift();
    if (forwarded < options.maxLogLines) {
      forwarded += 1;
      options.onLog?.(line, target);
    }
  };
  const child: ChildProcess = spawn(process.execPath, childArguments(options.casesDir, spec.memoryMb), {
    cwd: options.casesDir,
    // Only what the case declares: nothing of the prober's own environment.
    env: { ...options.env, ...spec.env },
    stdio: ["pipe", "pipe", "pipe", "ipc"],
    serialization: "json",
  });
  const send = (message: ToScriptChild) => {
    if (child.connected) child.send(message, () => undefined);
  };
  // console output of the case becomes log lines too (bounded like ctx.log), instead of the prober's stdout.
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (text: string) => text.split("\n").filter((line) => line !== "").forEach((line) => remember(line.slice(0, MAX_LOG_LINE_CHARS))));
  }
  // A case that exits before reading its program closes stdin early; that is reported by the exit, not thrown.
  child.stdin?.on("error", () => undefined);
  child.stdin?.end(program);
  return new Promise<ProbeOutcome>((resolveOutcome) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (timedOut || done) return;
      timedOut = true;
      send({ type: "abort" });
      graceTimer = setTimeout(() => child.kill("SIGKILL"), options.abortGraceMs);
    };
    const deadline = setTimeout(stop, context.timeoutMs);
    if (context.signal.aborted) stop();
    else context.signal.addEventListener("abort", stop, { once: true });
    child.on("message", (message: FromScriptChild) => {
      if (message.type === "ready") send({ type: "start", target, maxLogLineChars: MAX_LOG_LINE_CHARS });
      else if (message.type === "log") remember(message.line);
      else if (message.type === "check") {
        if (checks.length < options.maxChecks) checks.push(message.record);
      } else {
        done = message;
        // The case is over; timers or sockets it left open must not keep its process alive.
        child.kill("SIGKILL");
      }
    });
    let isFinished = false;
    const finish = (exitCode: number | null) => {
      if (isFinished) return;
      isFinished = true;
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      context.signal.removeEventListener("abort", stop);
      const phases = checkPhases(checks);
      phases.total = roundMs(performance.now() - started);
      const metrics = { script_checks_passed: checks.filter((check) => check.passed).length, script_checks_failed: checks.filter((check) => !check.passed).length };
      resolveOutcome({ ...judge(spec, context, { done, crash, isOutOfMemory, timedOut, exitCode, checks, logs }), phases, metrics });
    };
    child.on("error", (error: Error) => {
      crash = error;
      // A process that never started emits no close.
      if (child.pid === undefined) finish(null);
    });
    child.on("close", finish);
  });
}

interface RunFacts {
  done: Extract<FromScriptChild, { type: "done" }> | undefined;
  crash: Error | undefined;
  isOutOfMemory: boolean;
  timedOut: boolean;
  exitCode: number | null;
  checks: CheckRecord[];
  logs: string[];
}

function judge(spec: ScriptSpec, context: ProbeContext, facts: RunFacts): Pick<ProbeOutcome, "status" | "message"> {
  const lastLog = facts.logs.length > 0 ? `; last log: ${facts.logs[facts.logs.length - 1]}` : "";
  const lastCheck = facts.checks[facts.checks.length - 1];
  const where = lastCheck ? ` (last finished check: "${lastCheck.name}")` : "";
  if (facts.done?.result === "passed") return { status: "success", message: "" };
  if (facts.timedOut) return { status: "timeout", message: `killed after ${context.timeoutMs}ms: the script did not finish in time (an endless loop or an await that never settles?)${where}${lastLog}` };
  if (facts.isOutOfMemory) return { status: "failure", message: `killed: the script exceeded its memory limit of ${spec.memoryMb} MB (memoryLimitMb)${where}` };
  if (facts.done?.result === "failed") return { status: "failure", message: `${facts.done.message}${lastLog}` };
  if (facts.done?.result === "threw") return { status: "failure", message: `the script threw ${facts.done.message}${where}${lastLog}` };
  if (facts.done?.result === "invalid") return { status: "error", message: `${spec.file}: ${facts.done.message}` };
  if (facts.crash) return { status: "error", message: `the script's process could not run: ${facts.crash.message}` };
  return { status: "failure", message: `the script's process exited with code ${facts.exitCode ?? "none (killed)"} before finishing (did it call process.exit?)${where}${lastLog}` };
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
