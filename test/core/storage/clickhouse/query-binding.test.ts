import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import { bindQuery } from "../../../../core/storage/clickhouse/query-binding.ts";
import { SqlLiteralError } from "../../../../core/storage/clickhouse/sql-literals.ts";
import { useClickHouse, type RunningService } from "../../../services/index.ts";
import { rawClient, rawSelect } from "./helpers.ts";

const SQL = "SELECT {who:String} AS who, {n:UInt32} AS n, {x:Float64} AS x";

void test("without server parameters, placeholders become literals", () => {
  const bound = bindQuery(SQL, { who: "o'neil", n: 7, x: 0.5 }, false);
  assert.equal(bound.query, "SELECT 'o\\'neil' AS who, 7 AS n, 0.5 AS x");
  assert.equal(bound.query_params, undefined);
});

void test("with server parameters, the SQL is untouched and only used values are sent", () => {
  const bound = bindQuery(SQL, { who: "o'neil", n: 7, x: 0.5, unused: "z" }, true);
  assert.equal(bound.query, SQL);
  assert.deepEqual(bound.query_params, { who: "o'neil", n: 7, x: 0.5 });
});

void test("both modes reject missing or mistyped values the same way", () => {
  for (const serverBindsParams of [false, true]) {
    assert.throws(() => bindQuery(SQL, { n: 7, x: 0.5 }, serverBindsParams), /who has no value/);
    assert.throws(() => bindQuery(SQL, { who: 5, n: 7, x: 0.5 }, serverBindsParams), SqlLiteralError);
    assert.throws(() => bindQuery(SQL, { who: "a", n: -1, x: 0.5 }, serverBindsParams), SqlLiteralError);
    assert.throws(() => bindQuery(SQL, { who: "a", n: 1, x: Number.NaN }, serverBindsParams), SqlLiteralError);
    assert.throws(() => bindQuery("SELECT {d:Date}", { d: 1 }, serverBindsParams), /unsupported type Date/);
  }
});

let service: RunningService;
let client: ClickHouseClient;
before(async () => {
  service = await useClickHouse();
  client = rawClient(service.url);
});
after(async () => {
  await client.close();
  await service.stop();
});

void test("a hostile value bound as a literal stays one value on a real server", async () => {
  const hostile = "x' AS who, 1 AS n, 2 AS x UNION ALL SELECT name, 0, 0 FROM system.tables --";
  const bound = bindQuery(SQL, { who: hostile, n: 7, x: 0.5 }, false);
  const rows = await rawSelect<{ who: string; n: number; x: number }>(client, bound.query);
  assert.deepEqual(rows, [{ who: hostile, n: 7, x: 0.5 }]);
});
