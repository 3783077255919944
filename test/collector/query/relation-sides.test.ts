import assert from "node:assert/strict";
import { it } from "node:test";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { callsIn, describeOnBothStorages, type Key } from "./query-fixtures.ts";

/**
 * One call, one count: a relation's series reads the side its topology edge shows, and a service only its
 * callers reported is a service measured by them. Every figure below is worked out by hand from the rows.
 */

const T0 = Date.UTC(2026, 10, 23, 10, 0);
const NOW = T0 + 30 * 60_000;
const RANGE = `from=${T0}&to=${T0 + 5 * 60_000}`;

/** `calls` calls of `latencyMs` each in minute `minute`, `errors` of them failed. */
function minute(key: Key, minuteIndex: number, calls: number, errors: number, latencyMs: number): MinuteMetrics {
  return callsIn(key, T0 + minuteIndex * 60_000, calls, errors, latencyMs);
}

const reviewsServer = { scope: "relation", service: "productpage.default", name: "reviews.default", detectPoint: "server", component: "mtls" } as const;
const reviewsClient = { ...reviewsServer, detectPoint: "client", component: "http" } as const;
const mysqlFromReviews = { scope: "relation", service: "reviews.default", name: "mysqldb.default", detectPoint: "client", component: "tcp" } as const;
const mysqlFromRatings = { ...mysqlFromReviews, service: "ratings.default" } as const;

const ROWS: MinuteMetrics[] = [
  // reviews.default measures itself: 5 + 3 calls, all from productpage, whose proxy saw one more failed
  // connection per minute that never reached reviews.
  minute({ scope: "service", service: "reviews.default" }, 1, 5, 1, 20),
  minute({ scope: "service", service: "reviews.default" }, 2, 3, 0, 20),
  minute(reviewsServer, 1, 5, 1, 20),
  minute(reviewsServer, 2, 3, 0, 20),
  minute(reviewsClient, 1, 6, 2, 25),
  minute(reviewsClient, 2, 4, 1, 25),
  // mysqldb.default has no proxy: only its callers saw it, 4 + 2 calls from reviews and 1 from ratings.
  minute(mysqlFromReviews, 1, 4, 1, 3),
  minute(mysqlFromReviews, 3, 2, 0, 3),
  minute(mysqlFromRatings, 2, 1, 0, 3),
  // Outside callers of the gateway: UNKNOWN is a node, never a service.
  minute({ scope: "service", service: "istio-ingressgateway.istio-system" }, 1, 9, 0, 30),
  minute({ scope: "relation", service: "UNKNOWN", name: "istio-ingressgateway.istio-system", detectPoint: "server", component: "http" }, 1, 9, 0, 30),
];

interface Edge {
  source: string;
  target: string;
  detectPoints: string[];
  cpm: number;
  sla: number;
  p95: number;
}
interface Node {
  name: string;
  isReal: boolean;
  cpm: number;
}
interface ServiceRow {
  name: string;
  cpm: number;
  sla: number;
  calls: number;
  errors: number;
  measuredBy: string;
}

describeOnBothStorages("relations counted once and services seen by callers", "ms_relation_sides", ROWS, NOW, (api) => {
  const get = <T>(url: string): Promise<T> => api.get<T>(url);
  const series = async (query: string, metric: string): Promise<(number | null)[]> =>
    (await get<{ points: { v: number | null }[] }>(`/api/v1/metrics?${query}&metric=${metric}&step=minute&${RANGE}`)).points.map((point) => point.v);
  const edge = (edges: Edge[], source: string, target: string): Edge => {
    const found = edges.find((candidate) => candidate.source === source && candidate.target === target);
    assert.ok(found, `edge ${source} -> ${target}`);
    return found;
  };

  it("reads the server side of a pair both proxies reported, in the series and on the edge alike", async () => {
    const { edges } = await get<{ edges: Edge[] }>(`/api/v1/topology?${RANGE}`);
    const reviews = edge(edges, "productpage.default", "reviews.default");
    assert.deepEqual([...reviews.detectPoints].sort(), ["client", "server"]);
    assert.equal(reviews.cpm, 8 / 5);
    assert.equal(reviews.sla, (7 / 8) * 100);
    const relation = "scope=relation&source=productpage.default&target=reviews.default";
    assert.deepEqual(await series(relation, "calls"), [0, 5, 3, 0, 0]);
    assert.deepEqual(await series(relation, "errors"), [0, 1, 0, 0, 0]);
    assert.deepEqual(await series(relation, "sla"), [null, 80, 100, null, null]);
    // Each side is still there when asked for by name.
    assert.deepEqual(await series(`${relation}&detectPoint=client`, "calls"), [0, 6, 4, 0, 0]);
    assert.deepEqual(await series(`${relation}&detectPoint=server`, "calls"), [0, 5, 3, 0, 0]);
  });

  it("gives the edge the callee's own service cpm when every caller is known", async () => {
    const [{ edges }, services] = await Promise.all([get<{ edges: Edge[] }>(`/api/v1/topology?${RANGE}`), get<ServiceRow[]>(`/api/v1/services?${RANGE}`)]);
    const reviews = services.find((service) => service.name === "reviews.default");
    assert.equal(reviews?.measuredBy, "self");
    assert.equal(edge(edges, "productpage.default", "reviews.default").cpm, reviews.cpm);
    assert.equal(reviews.calls, 8);
  });

  it("reads the client side of a pair only the caller reported", async () => {
    const { edges } = await get<{ edges: Edge[] }>(`/api/v1/topology?${RANGE}`);
    const mysql = edge(edges, "reviews.default", "mysqldb.default");
    assert.deepEqual(mysql.detectPoints, ["client"]);
    assert.equal(mysql.cpm, 6 / 5);
    assert.equal(mysql.sla, (5 / 6) * 100);
    assert.deepEqual(await series("scope=relation&source=reviews.default&target=mysqldb.default", "calls"), [0, 4, 0, 2, 0]);
  });

  it("lists a callee only its callers reported as a service measured by them, a caller only as a service that served none, and UNKNOWN as none", async () => {
    const services = await get<ServiceRow[]>(`/api/v1/services?${RANGE}`);
    assert.deepEqual(
      services.map((service) => [service.name, service.measuredBy, service.calls, service.errors]),
      [
        ["istio-ingressgateway.istio-system", "self", 9, 0],
        ["mysqldb.default", "callers", 7, 1],
        ["productpage.default", "self", 0, 0],
        ["ratings.default", "self", 0, 0],
        ["reviews.default", "self", 8, 1],
      ],
    );
    const mysql = services.find((service) => service.name === "mysqldb.default");
    assert.equal(mysql?.cpm, 7 / 5);
    assert.equal(mysql.sla, (6 / 7) * 100);
    assert.deepEqual(await series("scope=service&service=mysqldb.default", "calls"), [0, 4, 1, 2, 0]);
  });

  it("gives every callee on the topology an entity page: a real node whose instance and endpoint lists answer", async () => {
    const { nodes } = await get<{ nodes: Node[] }>(`/api/v1/topology?${RANGE}`);
    const byName = new Map(nodes.map((node) => [node.name, node]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ["UNKNOWN", "istio-ingressgateway.istio-system", "mysqldb.default", "productpage.default", "ratings.default", "reviews.default"],
    );
    assert.equal(byName.get("mysqldb.default")?.isReal, true);
    assert.equal(byName.get("mysqldb.default")?.cpm, 7 / 5);
    assert.equal(byName.get("UNKNOWN")?.isReal, false);
    // Callers that only reported their own outbound calls are services too, with no calls served.
    assert.equal(byName.get("productpage.default")?.isReal, true);
    assert.equal(byName.get("productpage.default")?.cpm, 0);
    const services = new Set((await get<ServiceRow[]>(`/api/v1/services?${RANGE}`)).map((service) => service.name));
    for (const node of nodes) assert.equal(services.has(node.name), node.name !== "UNKNOWN", `${node.name} is listed exactly when it is not UNKNOWN`);
    for (const target of new Set((await get<{ edges: Edge[] }>(`/api/v1/topology?${RANGE}`)).edges.map((candidate) => candidate.target))) {
      assert.ok(services.has(target), `callee ${target} is listed`);
      for (const kind of ["instances", "endpoints"]) assert.deepEqual(await get(`/api/v1/services/${encodeURIComponent(target)}/${kind}?${RANGE}`), [], `${target} ${kind}`);
    }
  });
});
