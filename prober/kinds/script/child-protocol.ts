import type { CheckRecord } from "../../sdk/script-context.ts";

/** Parent -> child, over the IPC channel: `start` once the child said `ready` (the case waits for it), `abort` at the timeout. */
export type ToScriptChild = { type: "start"; target: string; maxLogLineChars: number } | { type: "abort" };

/** Child -> parent. */
export type FromScriptChild =
  | { type: "ready" }
  | { type: "log"; line: string }
  | { type: "check"; record: CheckRecord }
  | { type: "done"; result: "passed" }
  | { type: "done"; result: "failed" | "threw" | "invalid"; message: string };
