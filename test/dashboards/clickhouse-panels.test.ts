import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClickHouseFormat } from "../../dashboards/src/queries.ts";
import { useClickHouse, type RunningService } from "../services/index.ts";
import { ALL, expandPanelSql, type QueryContext } from "./clickhouse-macros.ts";
import { clickHouseQueries, clickHouseVariables } from "./dashboard-walk.ts";
import { seedSimulatedMesh, type SeededMesh } from "./seed-mesh.ts";

/**
 * Every ClickHouse query of every generated dashboard, expanded as Grafana's ClickHouse data source
 * expands it (template variables with values taken from the dashboards' own variable queries, then
 * macros), run on a real ClickHouse that the real collector filled from the bookinfo simulator.
 */

interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

/** Values with something behind them in every panel of the simulated mesh (productpage calls both others). */
const PREFERRED: Record<string, string> = { service: "productpage.default", source: "productpage.default", target: "details.default" };
/** Two values where a variable takes several, so the 'a','b' formatting runs too; details is the failing one. */
const PREFERRED_MULTI: Record<string, string[]> = { service: ["details.default", "productpage.default"] };

let server: RunningService;
let mesh: SeededMesh;

async function run(sql: string): Promise<Result> {
  const response = await fetch(`${server.url}/?database=${mesh.database}&default_format=JSON`, { method: "POST", body: sql });
  const body = await response.text();
  assert.equal(response.status, 200, `ClickHouse refused:\n${sql}\n${body}`);
  return JSON.parse(body) as Result;
}

function baseContext(): QueryContext {
  return { fromMs: mesh.fromMs, toMs: mesh.toMs, intervalMs: 60_000, variables: {} };
}

/** Runs the dashboard's variable queries in order, like Grafana on load; multi-value ones as All or the first value. */
async function resolveVariables(sqlOf: ReturnType<typeof clickHouseVariables>, multiAsAll: boolean): Promise<QueryContext> {
  const context = baseContext();
  for (const variable of sqlOf) {
    const result = await run(expandPanelSql(variable.sql, context));
    const values = result.data.map((row) => String(Object.values(row)[0]));
    assert.ok(values.length > 0, `variable ${variable.name} has values`);
    const chosen = values.includes(PREFERRED[variable.name] ?? "") ? PREFERRED[variable.name]! : values[0]!;
    const several = (PREFERRED_MULTI[variable.name] ?? []).filter((value) => values.includes(value));
    context.variables[variable.name] = variable.multiWithAll
      ? multiAsAll
        ? { value: ALL, allValues: values }
        : { value: several.length > 0 ? several : [chosen] }
      : { value: chosen };
  }
  return context;
}

function numeric(value: unknown): number {
  const number = Number(value);
  assert.ok(Number.isFinite(number), `finite number, got ${String(value)}`);
  return number;
}

before(async () => {
  server = await useClickHouse();
  mesh = await seedSimulatedMesh(server.url, `dashboards_${process.pid}_${Date.now()}`);
});

after(async () => {
  await mesh?.drop();
  await server?.stop();
});

for (const { file, built, queries } of clickHouseQueries()) {
  if (queries.length === 0) continue;
  describe(`${file} on ClickHouse`, () => {
    for (const multiAsAll of [true, false]) {
      const selection = multiAsAll ? "All selected" : "one value selected";
      for (const { panel, query } of queries) {
        it(`${panel} [${query.refId}] returns rows (${selection})`, async () => {
          const context = await resolveVariables(clickHouseVariables(built), multiAsAll);
          const result = await run(expandPanelSql(query.rawSql, context));
          assert.ok(result.data.length > 0, `${panel}: no rows`);
          const names = result.meta.map((column) => column.name);
          assert.equal(new Set(names).size, names.length, `${panel}: duplicate columns ${names.join(",")}`);
          if (query.format === ClickHouseFormat.TimeSeries) {
            assert.equal(names[0], "t", `${panel}: a time series starts with its time column`);
            assert.match(result.meta[0]!.type, /^DateTime/);
            const values = result.meta.filter((column) => /Int|Float/.test(column.type));
            assert.ok(values.length > 0, `${panel}: a time series has a numeric column`);
            for (const row of result.data) for (const column of values) numeric(row[column.name]);
          }
        });
      }
    }
  });
}

describe("mesh overview content", () => {
  const overview = clickHouseQueries().find((dashboard) => dashboard.file === "mesh-overview.json")!;
  const sqlOf = (refId: string, panel: string): string => overview.queries.find((q) => q.panel === panel && q.query.refId === refId)!.query.rawSql;

  it("node graph frames carry the fields Grafana's node graph reads, and edges join known nodes", async () => {
    const context = await resolveVariables(clickHouseVariables(overview.built), true);
    const nodes = await run(expandPanelSql(sqlOf("nodes", "Topology"), context));
    const edges = await run(expandPanelSql(sqlOf("edges", "Topology"), context));
    assert.deepEqual(nodes.meta.map((c) => c.name), ["id", "title", "subTitle", "mainStat", "secondaryStat", "arc__success", "arc__errors"]);
    assert.deepEqual(edges.meta.map((c) => c.name), ["id", "source", "target", "mainStat", "secondaryStat"]);
    const ids = new Set(nodes.data.map((row) => String(row.id)));
    for (const service of ["productpage.default", "reviews.default", "ratings.default", "details.default", "mysqldb.default"]) assert.ok(ids.has(service), service);
    for (const row of nodes.data) assert.ok(Math.abs(numeric(row.arc__success) + numeric(row.arc__errors) - 1) < 1e-9, `arcs of ${String(row.id)} sum to 1`);
    assert.ok(numeric(nodes.data.find((row) => row.id === "details.default")!.arc__errors) > 0, "the abort fault shows on details");
    for (const row of edges.data) {
      assert.ok(ids.has(String(row.source)) && ids.has(String(row.target)), `edge ${String(row.id)} joins two nodes`);
      assert.ok(numeric(row.mainStat) > 0);
    }
    assert.equal(new Set(edges.data.map((row) => row.id)).size, edges.data.length, "one edge per caller and callee");
    // One call, one count: productpage is reviews' only caller, so the edge reads exactly reviews' own calls
    // (the server side), not the sum of both proxies' views.
    const reviewsEdge = edges.data.find((row) => row.source === "productpage.default" && row.target === "reviews.default");
    const reviewsNode = nodes.data.find((row) => row.id === "reviews.default");
    assert.ok(reviewsEdge && reviewsNode);
    assert.equal(numeric(reviewsEdge.mainStat), numeric(reviewsNode.mainStat));
  });

  it("services table shows the injected faults: details fails, ratings is slow", async () => {
    const context = await resolveVariables(clickHouseVariables(overview.built), true);
    const services = await run(expandPanelSql(sqlOf("A", "Services"), context));
    assert.deepEqual(services.meta.map((c) => c.name), ["service", "cpm", "sla", "p95", "apdex", "health"]);
    const byName = new Map(services.data.map((row) => [String(row.service), row]));
    assert.ok(numeric(byName.get("details.default")!.sla) < 90, "details SLA shows the 30 % abort");
    assert.ok(numeric(byName.get("ratings.default")!.p95) >= 800 * 0.95, "ratings p95 shows the 800 ms delay");
    assert.equal(numeric(byName.get("reviews.default")!.sla), 100);
  });
});
