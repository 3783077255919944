import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { inTransaction, openDatabase } from "../../../../core/storage/duckdb/database.ts";
import { StagingTable } from "../../../../core/storage/duckdb/staging-table.ts";

const ROWS = 20_000;

void test("a staging table holds one batch, however many went through it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-staging-"));
  const instance = await openDatabase(join(dir, "staging.duckdb"));
  const connection = await instance.connect();
  // In a database file, the temp tables are the only in-memory tables.
  const tempTableBytes = async (): Promise<number> =>
    Number((await connection.runAndReadAll("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'")).getRowsJS()[0]?.[0]);
  try {
    // One small row per batch, so that what grows in memory can only be the staging table.
    await connection.run("CREATE TABLE batches (staged BIGINT)");
    const staging = new StagingTable(connection, "names_staging", "name VARCHAR, n BIGINT", "INSERT INTO batches SELECT count(*) FROM names_staging");
    await staging.prepare();
    const batch = Array.from({ length: ROWS }, (_, index) => index);
    const writeBatch = (): Promise<void> =>
      inTransaction(connection, () =>
        staging.write(batch, (appender, index) => {
          appender.appendVarchar(`service-${index}.flood`);
          appender.appendBigInt(BigInt(index));
        }),
      );
    await writeBatch();
    const afterOne = await tempTableBytes();
    for (let written = 1; written < 10; written++) await writeBatch();
    const afterTen = await tempTableBytes();
    assert.ok(afterOne > 0, "the batch is staged in memory");
    assert.ok(afterTen <= afterOne * 1.5, `ten batches staged ${afterTen} bytes, one ${afterOne}`);
    assert.equal((await connection.runAndReadAll("SELECT sum(staged) FROM batches")).getRowsJS()[0]?.[0], BigInt(10 * ROWS));
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
});
