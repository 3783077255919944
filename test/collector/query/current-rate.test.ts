import assert from "node:assert/strict";
import { it } from "node:test";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { callsIn, describeOnBothStorages, type Key } from "./query-fixtures.ts";

/**
 * The current rate: every list and the topology carry cpmNow, the calls of the last complete minute before
 * `to`, beside cpm, the average over the range. Every figure below is worked out by hand from the rows.
 */

const T0 = Date.UTC(2026, 10, 23, 10, 0);
const NOW = T0 + 30 * 60_000;
/** `to` inside minute 2: minute 1 is the last complete one, and the range is minutes 0 to 2. */
const RANGE = `from=${T0}&to=${T0 + 2 * 60_000 + 30_000}`;
/** `to` at the end of minute 2: minute 2 is the last complete one. */
const LATER = `from=${T0}&to=${T0 + 3 * 60_000}`;

function minute(key: Key, minuteIndex: number, calls: number, errors = 0): MinuteMetrics {
  return callsIn(key, T0 + minuteIndex * 60_000, calls, errors, 10);
}

const ratings = { scope: "service", service: "ratings.default" } as const;
const ratingsV1 = { scope: "instance", service: "ratings.default", name: "ratings-v1.default" } as const;
const ratingsV2 = { ...ratingsV1, name: "ratings-v2.default" } as const;
const ratingsGet = { scope: "endpoint", service: "ratings.default", name: "GET:/ratings/{id}" } as const;
const reviews = { scope: "service", service: "reviews.default" } as const;
const ratingsServer = { scope: "relation", service: "reviews.default", name: "ratings.default", detectPoint: "server", component: "mtls" } as const;
const ratingsClient = { ...ratingsServer, detectPoint: "client", component: "http" } as const;
// mysqldb.default has no proxy: only its caller's side measures it.
const mysqlClient = { scope: "relation", service: "reviews.default", name: "mysqldb.default", detectPoint: "client", component: "tcp" } as const;

const ROWS: MinuteMetrics[] = [
  minute(ratings, 1, 100, 7),
  minute(ratings, 2, 2),
  minute(ratingsV1, 1, 60, 7),
  minute(ratingsV1, 2, 2),
  minute(ratingsV2, 1, 40),
  minute(ratingsGet, 1, 100, 7),
  minute(ratingsGet, 2, 2),
  minute(reviews, 1, 2),
  // The callee counted 2 calls, 1 failed; the caller saw 3, 2 failed (one never reached the callee).
  minute(ratingsServer, 1, 2, 1),
  minute(ratingsClient, 1, 3, 2),
  minute(mysqlClient, 0, 4),
  minute(mysqlClient, 1, 5),
];

describeOnBothStorages("the current rate beside the range average", "ms_current_rate", ROWS, NOW, (api) => {
  it("gives services the calls of the last complete minute, including one only its callers measured", async () => {
    const services = await api.get<{ name: string; cpm: number; cpmNow: number }[]>(`/api/v1/services?${RANGE}`);
    assert.deepEqual(services.map((s) => [s.name, s.cpm, s.cpmNow]), [
      ["mysqldb.default", 9 / 3, 5],
      ["ratings.default", 102 / 3, 100],
      ["reviews.default", 2 / 3, 2],
    ]);
    const later = await api.get<{ name: string; cpmNow: number }[]>(`/api/v1/services?${LATER}`);
    assert.deepEqual(later.map((s) => [s.name, s.cpmNow]), [["mysqldb.default", 0], ["ratings.default", 2], ["reviews.default", 0]]);
  });

  it("gives instances and endpoints theirs", async () => {
    const rows = async (kind: string, range: string): Promise<[string, number, number][]> =>
      (await api.get<{ name: string; cpm: number; cpmNow: number }[]>(`/api/v1/services/ratings.default/${kind}?${range}`)).map((r) => [r.name, r.cpm, r.cpmNow]);
    assert.deepEqual(await rows("instances", RANGE), [["ratings-v1.default", 62 / 3, 60], ["ratings-v2.default", 40 / 3, 40]]);
    assert.deepEqual(await rows("instances", LATER), [["ratings-v1.default", 62 / 3, 2], ["ratings-v2.default", 40 / 3, 0]]);
    assert.deepEqual(await rows("endpoints", RANGE), [["GET:/ratings/{id}", 102 / 3, 100]]);
    assert.deepEqual(await rows("endpoints", LATER), [["GET:/ratings/{id}", 102 / 3, 2]]);
  });

  it("gives topology edges the counted side's calls and the worse side's SLA, and nodes their service's calls", async () => {
    type Topology = { nodes: { name: string; cpm: number; cpmNow: number }[]; edges: { target: string; cpm: number; cpmNow: number; sla: number; worstSla: number }[] };
    const { nodes, edges } = await api.get<Topology>(`/api/v1/topology?${RANGE}`);
    assert.deepEqual(edges.map((e) => [e.target, e.cpm, e.cpmNow, e.sla, e.worstSla]), [
      ["mysqldb.default", 9 / 3, 5, 100, 100],
      ["ratings.default", 2 / 3, 2, 50, (1 / 3) * 100],
    ]);
    const byName = (list: Topology["nodes"]): [string, number, number][] => list.map((n): [string, number, number] => [n.name, n.cpm, n.cpmNow]).sort((a, b) => a[0].localeCompare(b[0]));
    assert.deepEqual(byName(nodes), [
      ["mysqldb.default", 9 / 3, 5],
      ["ratings.default", 102 / 3, 100],
      ["reviews.default", 2 / 3, 2],
    ]);
    const later = await api.get<Topology>(`/api/v1/topology?${LATER}`);
    assert.deepEqual(later.edges.map((e) => [e.target, e.cpmNow]), [["mysqldb.default", 0], ["ratings.default", 0]]);
    assert.deepEqual(byName(later.nodes).map(([name, , cpmNow]) => [name, cpmNow]), [["mysqldb.default", 0], ["ratings.default", 2], ["reviews.default", 0]]);
  });
});
