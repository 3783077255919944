/**
 * Runs the real CLI as a child process, the way operators run it (from the sources, `node --import tsx
 * cli.ts ...`, or as installed, `node bin/meshsight.mjs ...` on the JavaScript built into dist/), and reads
 * its JSON log lines. Not a test file itself: the *.test.ts files next to it use it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitForValue } from "../support/wait-for.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEADLINE_MS = 90_000;

/**
 * Every data receiver on a port the system picks, so a test's meshsight never collides with another
 * process (tests run side by side); the HTTP port is given as a flag and read back from the log.
 */
export const RECEIVERS_ON_FREE_PORTS: Readonly<Record<string, string>> = {
  MESHSIGHT_ALS_PORT: "0",
  MESHSIGHT_OTLP_GRPC_PORT: "0",
  MESHSIGHT_OTLP_HTTP_PORT: "0",
  MESHSIGHT_ZIPKIN_PORT: "0",
};

export interface CliRun {
  child: ChildProcess;
  stdoutLines(): string[];
  stderr(): string;
  /** Resolves with the exit code (or throws after the deadline). */
  exited(): Promise<number | null>;
}

/** The parent's environment without meshsight/OTel settings, so a developer's shell cannot change a test. */
function cleanEnvironment(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("MESHSIGHT_") && !name.startsWith("OTEL_")) env[name] = value;
  }
  return { ...env, ...overrides };
}

/** How the child starts: the TypeScript sources through tsx, or the published bin on the built JavaScript (no loader). */
export type CliEntry = "sources" | "compiled";
const ENTRY_ARGUMENTS: Record<CliEntry, readonly string[]> = { sources: ["--import", "tsx", "cli.ts"], compiled: ["bin/meshsight.mjs"] };

/**
 * `stdin`: text written to the child's stdin, which is then closed (`meshsight ingest < file`), or kept
 * open with `keepOpen` (a pipe whose writer is still running).
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, stdin?: { text: string; keepOpen?: boolean }, entry: CliEntry = "sources"): CliRun {
  const child = spawn(process.execPath, [...ENTRY_ARGUMENTS[entry], ...args], {
    cwd: REPO_ROOT,
    env: cleanEnvironment(env),
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  // A child that exits without reading (a usage error) closes the pipe: EPIPE is expected then, not a failure.
  child.stdin?.on("error", () => undefined);
  if (stdin?.keepOpen === true) child.stdin?.write(stdin.text);
  else child.stdin?.end(stdin?.text);
  return collectOutput(child, args);
}

/**
 * Runs the CLI with its stdout and stderr on a pseudo-terminal, as in an operator's shell: util-linux
 * `script` opens one and copies what the CLI writes there to its own stdout (both streams, CRLF line ends).
 */
export function runCliOnTerminal(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const command = [process.execPath, ...ENTRY_ARGUMENTS.sources, ...args].map(shellQuote).join(" ");
  const child = spawn("script", ["--quiet", "--flush", "--return", "--command", `exec ${command}`, "/dev/null"], {
    cwd: REPO_ROOT,
    env: cleanEnvironment(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  return collectOutput(child, args);
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

function collectOutput(child: ChildProcess, args: readonly string[]): CliRun {
  let stdout = "";
  let stderr = "";
  // Both are pipes (stdio above); the conditional stdin makes TypeScript see them as possibly null.
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdoutLines: () => stdout.split(/\r?\n/).filter((line) => line !== ""),
    stderr: () => stderr,
    exited: () => withDeadline(exit, `meshsight ${args.join(" ")} did not exit`),
  };
}

async function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface LogLine {
  msg?: string;
  port?: number;
  component?: string;
}

/** Polls the log for the HTTP "listening" line (port 0 makes the CLI pick one) and returns its port. */
export function waitForHttpPort(run: CliRun): Promise<number> {
  return waitForListeningPort(run, "http");
}

/** Polls the log for the "listening" line of a component (`http`, `als`, ...) and returns its port. */
export function waitForListeningPort(run: CliRun, component: string): Promise<number> {
  const listeningPort = (): number | undefined => {
    for (const line of run.stdoutLines()) {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.msg === "listening" && parsed.component === component && parsed.port !== undefined) return parsed.port;
    }
    if (run.child.exitCode !== null) throw new Error(`meshsight exited with ${run.child.exitCode}:\n${run.stderr()}\n${run.stdoutLines().join("\n")}`);
    return undefined;
  };
  return waitForValue(listeningPort, `meshsight to log a listening ${component} port`, DEADLINE_MS, () => run.stderr());
}

/** Sends `signal` and measures how long the process takes to exit. */
export async function stopWith(run: CliRun, signal: NodeJS.Signals): Promise<{ code: number | null; elapsedMs: number }> {
  const sentAt = Date.now();
  run.child.kill(signal);
  const code = await run.exited();
  return { code, elapsedMs: Date.now() - sentAt };
}

/** Makes sure no child outlives a failed test. */
export function killIfRunning(run: CliRun | undefined): void {
  if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
}
