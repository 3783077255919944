import { performance } from "node:perf_hooks";
import { ProbeCheckFailedError, type ProbeScriptContext } from "./define-probe.ts";

/** One finished `ctx.check` step. */
export interface CheckRecord {
  name: string;
  passed: boolean;
  durationMs: number;
  /** Why it failed; "" when it passed. */
  error: string;
}

export interface ScriptContextOptions {
  target: string;
  signal: AbortSignal;
  onLog: (line: string) => void;
  onCheck: (record: CheckRecord) => void;
  /** Longer log lines are cut, so one huge message cannot flood the parent. */
  maxLogLineChars: number;
}

/**
 * Builds the `ctx` a case's run receives. It only reports through callbacks: the child process forwards them to
 * the parent, tests collect them directly.
 */
export function createScriptContext(options: ScriptContextOptions): ProbeScriptContext {
  const cut = (text: string) => (text.length > options.maxLogLineChars ? `${text.slice(0, options.maxLogLineChars)}...` : text);
  return {
    target: options.target,
    signal: options.signal,
    log: (message: string) => options.onLog(cut(String(message))),
    http: (url: string | URL, init?: RequestInit) => {
      const signal = init?.signal ? AbortSignal.any([options.signal, init.signal]) : options.signal;
      return fetch(url, { ...init, signal });
    },
    async check<T>(name: string, step: () => T | Promise<T>): Promise<T> {
      const started = performance.now();
      try {
        const value = await step();
        options.onCheck({ name, passed: true, durationMs: performance.now() - started, error: "" });
        return value;
      } catch (error) {
        const reason = cut(error instanceof Error ? error.message : String(error));
        options.onCheck({ name, passed: false, durationMs: performance.now() - started, error: reason });
        throw error instanceof ProbeCheckFailedError ? error : new ProbeCheckFailedError(name, reason);
      }
    },
  };
}
