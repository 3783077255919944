import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { CONFORMANCE_RETENTION, runStorageConformance } from "./suite.ts";

const logger = pino({ level: "silent" });

// A file per case (not ":memory:"), so reopening reads back what the previous adapter wrote to disk.
runStorageConformance("duckdb", async () => {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-duckdb-"));
  const path = join(dir, "nested", "meshsight.duckdb");
  const open = (): DuckDbStorage => new DuckDbStorage({ path, retention: CONFORMANCE_RETENTION, logger });
  return {
    adapter: open(),
    reopen: () => Promise.resolve(open()),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
