import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import { capabilitiesOf, parseServerVersion } from "../../../../core/storage/clickhouse/capabilities.ts";
import { ClickHouseConnection } from "../../../../core/storage/clickhouse/connection.ts";
import { useClickHouse, type RunningService } from "../../../services/index.ts";
import { rawClient, rawSelect } from "./helpers.ts";

let service: RunningService;
let client: ClickHouseClient;
let serverVersion: string;
before(async () => {
  service = await useClickHouse();
  client = rawClient(service.url);
  [{ version: serverVersion } = { version: "" }] = await rawSelect<{ version: string }>(client, "SELECT version() AS version");
});
after(async () => {
  await client.close();
  await service.stop();
});

const SQL = "SELECT {who:String} AS who, {n:UInt64} AS n";

void test("the detected binding returns typed rows with 64-bit integers as numbers", async () => {
  const connection = new ClickHouseConnection(client, capabilitiesOf(parseServerVersion(serverVersion)));
  assert.deepEqual(await connection.select(SQL, { who: "a'b\\c", n: 2 ** 40 }), [{ who: "a'b\\c", n: 2 ** 40 }]);
});

void test("with server parameters the values travel as param_* settings, never in the SQL", async (t) => {
  const connection = new ClickHouseConnection(client, capabilitiesOf(parseServerVersion("24.8.1")));
  if (capabilitiesOf(parseServerVersion(serverVersion)).queryParameters) {
    assert.deepEqual(await connection.select(SQL, { who: "x", n: 1 }), [{ who: "x", n: 1 }]);
    return;
  }
  // An old server refuses the parameter settings: proof the values were not spliced into the SQL text.
  t.diagnostic(`server ${serverVersion} has no query parameters: checking that they are sent as settings`);
  await assert.rejects(connection.select(SQL, { who: "x", n: 1 }), /Unknown setting param_/);
});
