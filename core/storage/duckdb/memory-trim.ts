import type { DuckDBConnection } from "@duckdb/node-api";

/** Below this memory_limit DuckDB's buffer pool keeps nothing it can evict. */
const EVICT_ALL_LIMIT = "1MiB";
const LIMIT_REFUSED = /could not free up enough memory for the new limit/;

/**
 * Gives memory back: lowering memory_limit makes DuckDB evict every unpinned block of its buffer pool, and
 * setting it makes DuckDB flush its allocator's caches to the system (jemalloc's arenas, then glibc's
 * `malloc_trim`; `BufferPool::SetLimit` in https://github.com/duckdb/duckdb). Blocks evicted from a database
 * file are read back when next needed. An in-memory database's tables are its buffer pool (evicting them
 * would write them to the temp directory), so it only gets the allocator flush. The caller makes sure no
 * query runs meanwhile: one would find a limit too small for it.
 */
export async function trimMemory(connection: DuckDBConnection, options: { evictBufferPool: boolean; memoryLimit: string }): Promise<void> {
  try {
    if (options.evictBufferPool) await connection.run(`SET memory_limit = '${EVICT_ALL_LIMIT}'`).catch(unlessLimitRefused);
  } finally {
    await connection.run(`SET memory_limit = '${options.memoryLimit}'`);
  }
}

/** DuckDB refuses a limit below what stays pinned, after evicting all it could: that is the trim done. */
function unlessLimitRefused(error: unknown): void {
  if (!(error instanceof Error && LIMIT_REFUSED.test(error.message))) throw error;
}

/** DuckDB's memory_limit as a value SET accepts: the configured MiB, else what DuckDB chose (e.g. `18.8 GiB`). */
export async function memoryLimitSetting(connection: DuckDBConnection, memoryLimitMiB: number | undefined): Promise<string> {
  if (memoryLimitMiB !== undefined) return `${memoryLimitMiB}MiB`;
  const [row] = (await connection.runAndReadAll("SELECT current_setting('memory_limit') AS memory_limit")).getRowObjectsJS();
  if (typeof row?.memory_limit !== "string") throw new TypeError("DuckDB did not report its memory_limit");
  return row.memory_limit;
}
