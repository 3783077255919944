/**
 * Runs inside the worker thread the `script` kind starts: loads one case file, runs it once against the
 * target and reports logs, checks and the result to the parent. Anything the case does wrong (throws,
 * loops, allocates) stays in this thread; the parent decides when to kill it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isProbeScript, ProbeCheckFailedError } from "../../sdk/define-probe.ts";
import { createScriptContext } from "../../sdk/script-context.ts";
import type { FromScriptWorker, ScriptWorkerData, ToScriptWorker } from "./worker-protocol.ts";

const data = workerData as ScriptWorkerData;
const port = parentPort;
const post = (message: FromScriptWorker) => port?.postMessage(message);
const controller = new AbortController();
port?.on("message", (message: ToScriptWorker) => {
  if (message.type === "abort") controller.abort(new Error("the probe run timed out"));
});

try {
  const module = (await import(data.caseUrl)) as { default?: unknown };
  if (!isProbeScript(module.default)) {
    post({ type: "done", result: "invalid", message: "the case file does not default-export defineProbe({ name, run })" });
  } else {
    const context = createScriptContext({
      target: data.target,
      signal: controller.signal,
      maxLogLineChars: data.maxLogLineChars,
      onLog: (line) => post({ type: "log", line }),
      onCheck: (record) => post({ type: "check", record }),
    });
    await module.default.run(context);
    post({ type: "done", result: "passed" });
  }
} catch (error) {
  if (error instanceof ProbeCheckFailedError) post({ type: "done", result: "failed", message: error.message });
  else post({ type: "done", result: "threw", message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}
