import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import {
  dateLiteral,
  dateTimeLiteral,
  floatLiteral,
  identifier,
  integerLiteral,
  SqlLiteralError,
  stringLiteral,
} from "../../../../core/storage/clickhouse/sql-literals.ts";
import { useClickHouse, type RunningService } from "../../../services/index.ts";
import { rawClient, rawSelect } from "./helpers.ts";

/** Strings that have broken hand-written escapers somewhere. */
const HOSTILE_STRINGS = [
  "",
  "plain",
  "it's",
  "''",
  "\\",
  "ends with a backslash\\",
  "\\'",
  "\\\\'",
  "'; DROP DATABASE system; --",
  "' OR 1=1 --",
  "line\nbreak\r\nand\ttab",
  "nul\0inside",
  "\b\f\v",
  "\u0001\u001f\u007f",
  "üñíçødé ✓ 漢字 😀 \u200b",
  "{name:String}",
  "$1 ? %s",
  "\\N",
  "\\x41\\u0041",
  "`backtick` \"double\"",
  "a".repeat(10_240),
  "'\\".repeat(5_000),
];

void describe("stringLiteral", () => {
  void test("escapes backslash and quote so the literal cannot end early", () => {
    assert.equal(stringLiteral("it's"), "'it\\'s'");
    assert.equal(stringLiteral("a\\b"), "'a\\\\b'");
    assert.equal(stringLiteral("\\'"), "'\\\\\\''");
    assert.equal(stringLiteral("x\ny\0z"), "'x\\ny\\0z'");
  });

  void test("leaves no unescaped quote inside the literal", () => {
    for (const value of HOSTILE_STRINGS) {
      const inner = stringLiteral(value).slice(1, -1);
      // Every quote must be preceded by an odd number of backslashes.
      for (let i = inner.indexOf("'"); i !== -1; i = inner.indexOf("'", i + 1)) {
        let backslashes = 0;
        for (let j = i - 1; j >= 0 && inner[j] === "\\"; j--) backslashes++;
        assert.equal(backslashes % 2, 1, `unescaped quote in ${JSON.stringify(value.slice(0, 40))}`);
      }
    }
  });

  void test("rejects what is not a string", () => {
    assert.throws(() => stringLiteral(42 as unknown as string), SqlLiteralError);
    assert.throws(() => stringLiteral(null as unknown as string), SqlLiteralError);
  });
});

void describe("numbers, dates and identifiers", () => {
  void test("integers must be safe and in range for their type", () => {
    assert.equal(integerLiteral(0, "UInt8"), "0");
    assert.equal(integerLiteral(255, "UInt8"), "255");
    assert.equal(integerLiteral(-5, "Int32"), "-5");
    assert.throws(() => integerLiteral(256, "UInt8"), SqlLiteralError);
    assert.throws(() => integerLiteral(-1, "UInt64"), SqlLiteralError);
    assert.throws(() => integerLiteral(1.5, "UInt32"), SqlLiteralError);
    assert.throws(() => integerLiteral(Number.NaN), SqlLiteralError);
    assert.throws(() => integerLiteral(2 ** 53), SqlLiteralError);
    assert.throws(() => integerLiteral("1; DROP" as unknown as number), SqlLiteralError);
    assert.throws(() => integerLiteral(1, "Decimal"), SqlLiteralError);
  });

  void test("floats must be finite", () => {
    assert.equal(floatLiteral(1.25), "1.25");
    assert.equal(floatLiteral(-0.5), "-0.5");
    for (const bad of [Number.NaN, Infinity, -Infinity]) assert.throws(() => floatLiteral(bad), SqlLiteralError);
    assert.throws(() => floatLiteral("1" as unknown as number), SqlLiteralError);
  });

  void test("dates are formatted in UTC, date-times as epoch seconds", () => {
    assert.equal(dateLiteral(Date.UTC(2026, 0, 2, 23, 59)), "'2026-01-02'");
    assert.equal(dateTimeLiteral(1_700_000_000_999), "toDateTime(1700000000)");
    assert.throws(() => dateTimeLiteral(-1000), SqlLiteralError);
    assert.throws(() => dateLiteral(Number.NaN), SqlLiteralError);
  });

  void test("identifiers are plain names only", () => {
    assert.equal(identifier("meshsight_1"), "meshsight_1");
    for (const bad of ["", "1abc", "a-b", "a.b", "a`b", "a b", "x".repeat(65), "db; DROP"]) {
      assert.throws(() => identifier(bad), SqlLiteralError, bad);
    }
  });
});

void describe("literals read back by a real ClickHouse", () => {
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

  void test("every hostile string round-trips unchanged", async () => {
    for (const value of HOSTILE_STRINGS) {
      const rows = await rawSelect<{ v: string }>(client, `SELECT ${stringLiteral(value)} AS v`);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.v, value, `round trip of ${JSON.stringify(value.slice(0, 40))}`);
    }
  });

  void test("numbers and dates mean what they say", async () => {
    const rows = await rawSelect<{ i: number; f: number; t: number; d: string }>(
      client,
      `SELECT ${integerLiteral(-42, "Int64")} AS i, ${floatLiteral(1e-7)} AS f,
         toUnixTimestamp(${dateTimeLiteral(1_700_000_000_000)}) AS t, toString(toDate(${dateLiteral(Date.UTC(2026, 1, 3))})) AS d`,
    );
    assert.deepEqual(rows[0], { i: -42, f: 1e-7, t: 1_700_000_000, d: "2026-02-03" });
  });
});
