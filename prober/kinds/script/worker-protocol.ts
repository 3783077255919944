import type { CheckRecord } from "../../sdk/script-context.ts";

/** What the script worker is started with (workerData). */
export interface ScriptWorkerData {
  target: string;
  maxLogLineChars: number;
}

/** Parent -> worker. */
export type ToScriptWorker = { type: "abort" };

/** Worker -> parent. */
export type FromScriptWorker =
  | { type: "log"; line: string }
  | { type: "check"; record: CheckRecord }
  | { type: "done"; result: "passed" }
  | { type: "done"; result: "failed" | "threw" | "invalid"; message: string };
