import { after } from "node:test";
import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { pino } from "pino";
import { ClickHouseStorage } from "../../../core/storage/clickhouse/clickhouse-storage.ts";
import { useClickHouse } from "../../services/index.ts";
import { freshDatabaseName } from "../../core/storage/clickhouse/helpers.ts";
import { CONFORMANCE_RETENTION, runStorageConformance } from "./suite.ts";

const logger = pino({ level: "silent" });
const service = await useClickHouse();
// Dropping databases needs a client that outlives every adapter the suite closes.
const admin = createClient({ url: service.url, log: { level: ClickHouseLogLevel.OFF } });
after(async () => {
  await admin.close();
  await service.stop();
});

runStorageConformance(
  "clickhouse",
  () => {
    // A database per case on the shared server: cases never see each other's rows.
    const database = freshDatabaseName("ms_conformance");
    const open = (): ClickHouseStorage => new ClickHouseStorage({ url: service.url, database, retention: CONFORMANCE_RETENTION, logger });
    return Promise.resolve({
      adapter: open(),
      reopen: () => Promise.resolve(open()),
      cleanup: async () => {
        await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      },
    });
  },
  // Retention drops whole UTC days (partitions); a row a minute past the cutoff stays until its day ends.
  { capabilities: { exactRetentionCutoff: false } },
);
