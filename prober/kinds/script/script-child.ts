/**
 * The part of a script case's program that is meshsight's: compiled into one bundle with the case file
 * (compiled-cases.ts) and run in a child process (script-kind.ts), it waits for the parent's `start`,
 * loads the case, runs it once against the target and reports logs, checks and the result over the IPC
 * channel. Anything the case does wrong (throws, loops, allocates) stays in this process; the parent
 * decides when to kill it.
 */
import { isProbeScript, ProbeCheckFailedError } from "../../sdk/define-probe.ts";
import { createScriptContext } from "../../sdk/script-context.ts";
import type { FromScriptChild, ToScriptChild } from "./child-protocol.ts";

/**
 * `loadCase` imports the case module lazily, so an error thrown while the case file evaluates (a bad
 * defineProbe call, a top-level throw) is reported like any other throw of the case.
 */
export async function runCaseInChild(loadCase: () => Promise<{ default?: unknown }>): Promise<void> {
  const post = (message: FromScriptChild) => process.send?.(message);
  const controller = new AbortController();
  const start = await new Promise<Extract<ToScriptChild, { type: "start" }>>((resolve) => {
    process.on("message", (message: ToScriptChild) => {
      if (message.type === "start") resolve(message);
      else controller.abort(new Error("the probe run timed out"));
    });
    // Only now is anyone listening: a message sent before this could be lost.
    post({ type: "ready" });
  });
  try {
    const module = await loadCase();
    if (!isProbeScript(module.default)) {
      post({ type: "done", result: "invalid", message: "the case file does not default-export defineProbe({ name, run })" });
      return;
    }
    const context = createScriptContext({
      target: start.target,
      signal: controller.signal,
      maxLogLineChars: start.maxLogLineChars,
      onLog: (line) => post({ type: "log", line }),
      onCheck: (record) => post({ type: "check", record }),
    });
    await module.default.run(context);
    post({ type: "done", result: "passed" });
  } catch (error) {
    if (error instanceof ProbeCheckFailedError) post({ type: "done", result: "failed", message: error.message });
    else post({ type: "done", result: "threw", message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}
