import assert from "node:assert/strict";
import { test } from "node:test";
import { openDatabase, IN_MEMORY } from "../../../../core/storage/duckdb/database.ts";

async function memoryLimit(memoryLimitMiB?: number): Promise<string> {
  const instance = await openDatabase(IN_MEMORY, memoryLimitMiB);
  const connection = await instance.connect();
  try {
    const [row] = (await connection.runAndReadAll("SELECT current_setting('memory_limit') AS memory_limit")).getRowObjectsJS();
    return typeof row?.memory_limit === "string" ? row.memory_limit : "";
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

void test("storage.duckdbMemoryLimitMiB becomes DuckDB's memory_limit, so its buffer pool is bounded", async () => {
  assert.equal(await memoryLimit(256), "256.0 MiB");
  assert.notEqual(await memoryLimit(), "256.0 MiB", "absent, DuckDB keeps its own default");
});
