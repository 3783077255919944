/**
 * Learns the ports a `meshsight start` child picked (port 0) from its JSON "listening" log lines.
 * Not a test file itself: overview-page.test.ts uses it.
 */
import { waitFor } from "../support/wait-for.ts";
import type { CliRun } from "../cli/cli-process.ts";

const STARTUP_DEADLINE_MS = 30_000;

interface ListeningLine {
  msg?: string;
  component?: string;
  port?: number;
}

function portFromLog(run: CliRun, component: string): number | undefined {
  for (const line of run.stdoutLines()) {
    if (!line.includes('"listening"')) continue;
    const parsed = JSON.parse(line) as ListeningLine;
    if (parsed.msg === "listening" && parsed.component === component && parsed.port !== undefined) return parsed.port;
  }
  return undefined;
}

export async function listeningPort(run: CliRun, component: string): Promise<number> {
  let port: number | undefined;
  await waitFor(() => {
    if (run.child.exitCode !== null) throw new Error(`meshsight exited with ${run.child.exitCode}:\n${run.stderr()}`);
    port = portFromLog(run, component);
    return port !== undefined;
  }, `meshsight's ${component} port in its log`, STARTUP_DEADLINE_MS);
  if (port === undefined) throw new Error(`no ${component} port`);
  return port;
}
