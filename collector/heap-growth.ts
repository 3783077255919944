/**
 * How far V8 lets the old generation grow past what survived the last full GC, set for a collector
 * process. Why: every gRPC and HTTP/2 read arrives in a fresh ArrayBuffer (grpc-js copies each message
 * into one, Node's HTTP/2 session hands over each socket read as one), and V8 counts the external bytes
 * allocated since the last full GC against the old generation's room. Between two scavenges that is up to
 * a young generation's worth (16 MB), while V8's own choice for a heap whose survivors change slowly is
 * only max(10 %, 8 MB) of room: incremental marking then starts right after every full GC, and the ALS
 * path spends 20-30 % more CPU in a mark-compact every half second (bench/README.md, "The GC loop").
 * Tripling the live size leaves room for that churn; V8 itself picks up to 4x for busy heaps.
 */
import { setFlagsFromString } from "node:v8";

const FLAG_NAME = "--heap-growing-percent";
/** Old generation limit = 3x what survived the last full GC (+ the young generation, as V8 adds). */
export const COLLECTOR_HEAP_GROWING_PERCENT = 200;

/**
 * The flag to set, or null when the operator already chose a value on node's command line (`node
 * --heap-growing-percent=N bin/meshsight.mjs start`; Node refuses the flag in NODE_OPTIONS): theirs wins.
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | null {
  const chosen = execArgv.some((arg) => arg.replaceAll("_", "-").startsWith(FLAG_NAME));
  return chosen ? null : `${FLAG_NAME}=${COLLECTOR_HEAP_GROWING_PERCENT}`;
}

/**
 * Applies the collector's heap growth to this process unless the operator chose one (V8 reads the flag at
 * every full GC, so any time works). The caller passes `process.execArgv`.
 */
export function tuneHeapGrowthForCollector(execArgv: readonly string[]): void {
  const flag = heapGrowthFlag(execArgv);
  if (flag !== null) setFlagsFromString(flag);
}
