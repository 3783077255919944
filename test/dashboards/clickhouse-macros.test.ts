import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL, applyConditionalAll, expandPanelSql, type QueryContext } from "./clickhouse-macros.ts";

/** Expected texts are the ClickHouse data source's own (pkg/macros/macros_test.go, CHDatasource.test.ts). */
const context: QueryContext = {
  fromMs: 1415792726_371,
  toMs: 1447328726_779,
  intervalMs: 30_000,
  variables: { fieldVal: { value: ["val1", "val2"] }, fieldVal2: { value: ALL, allValues: ["x"] }, service: { value: "reviews.default" } },
};

describe("Grafana ClickHouse macro expansion", () => {
  it("expands time filters, bounds and intervals as the plugin backend does", () => {
    assert.equal(expandPanelSql("$__timeFilter(time)", context), "time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)");
    assert.equal(expandPanelSql("$__timeFilter_ms(time)", context), "time >= fromUnixTimestamp64Milli(1415792726371) AND time <= fromUnixTimestamp64Milli(1447328726779)");
    assert.equal(expandPanelSql("$__fromTime AND $__toTime", context), "toDateTime(1415792726) AND toDateTime(1447328726)");
    assert.equal(expandPanelSql("$__timeInterval(time)", context), "toStartOfInterval(toDateTime(time), INTERVAL 30 second)");
    assert.equal(expandPanelSql("$__interval_s", { ...context, intervalMs: 10 }), "1");
    assert.equal(expandPanelSql("$__dateFilter(day)", context), "day >= toDate('2014-11-12') AND day <= toDate('2015-11-12')");
  });

  it("replaces $__conditionalAll by 1=1 only when the variable is All", () => {
    const sql = "select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal) and $__conditionalAll(fieldVal in ($fieldVal2), $fieldVal2);";
    assert.equal(applyConditionalAll(sql, context), "select stuff from table where fieldVal in ($fieldVal) and 1=1;");
    assert.equal(expandPanelSql(sql, context), "select stuff from table where fieldVal in ('val1','val2') and 1=1;");
  });

  it("inserts single values as they are and refuses unknown variables and macros", () => {
    assert.equal(expandPanelSql("service = '${service}'", context), "service = 'reviews.default'");
    assert.throws(() => expandPanelSql("x = '$nope'", context), /not defined/);
    assert.throws(() => expandPanelSql("$__timeFiltr(time)", context), /unknown macro/);
  });
});
