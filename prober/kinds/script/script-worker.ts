/**
 * The part of a script case's worker program that is meshsight's: compiled into one bundle with the case
 * file (compiled-cases.ts), it loads the case, runs it once against the target and reports logs, checks
 * and the result to the parent. Anything the case does wrong (throws, loops, allocates) stays in this
 * thread; the parent decides when to kill it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isProbeScript, ProbeCheckFailedError } from "../../sdk/define-probe.ts";
import { createScriptContext } from "../../sdk/script-context.ts";
import type { FromScriptWorker, ScriptWorkerData, ToScriptWorker } from "./worker-protocol.ts";

/**
 * `loadCase` imports the case module lazily, so an error thrown while the case file evaluates (a bad
 * defineProbe call, a top-level throw) is reported like any other throw of the case.
 */
export async function runCaseInWorker(loadCase: () => Promise<{ default?: unknown }>): Promise<void> {
  const data = workerData as ScriptWorkerData;
  const port = parentPort;
  const post = (message: FromScriptWorker) => port?.postMessage(message);
  const controller = new AbortController();
  port?.on("message", (message: ToScriptWorker) => {
    if (message.type === "abort") controller.abort(new Error("the probe run timed out"));
  });
  try {
    const module = await loadCase();
    if (!isProbeScript(module.default)) {
      post({ type: "done", result: "invalid", message: "the case file does not default-export defineProbe({ name, run })" });
      return;
    }
    const context = createScriptContext({
      target: data.target,
      signal: controller.signal,
      maxLogLineChars: data.maxLogLineChars,
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
