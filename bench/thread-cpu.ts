/**
 * CPU seconds per thread of this process, from /proc (Linux only): shows how much of a benchmark's
 * process CPU is the main thread's JavaScript and how much V8's helper threads, libuv's pool or DuckDB's
 * threads spend. Empty where /proc is missing.
 */
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100;

/** `name/tid` -> CPU seconds (user + system) used so far; the main thread's tid is the process id. */
export function threadCpuSeconds(): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return byName;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      // The name sits in parentheses and may hold spaces; the fields after it are space-separated.
      const nameEnd = stat.lastIndexOf(")");
      const name = `${stat.slice(stat.indexOf("(") + 1, nameEnd)}/${task === String(process.pid) ? "main" : task}`;
      const fields = stat.slice(nameEnd + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
      byName.set(name, (byName.get(name) ?? 0) + ticks / CLOCK_TICKS_PER_SECOND);
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return byName;
}

/** CPU seconds per thread used since `before`, largest first, as `name=seconds` text. */
export function threadCpuSince(before: Map<string, number>): string {
  const used = [...threadCpuSeconds()].map(([name, seconds]): [string, number] => [name, seconds - (before.get(name) ?? 0)]);
  return used
    .filter(([, seconds]) => seconds >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([name, seconds]) => `${name}=${seconds.toFixed(2)}`)
    .join(" ");
}
