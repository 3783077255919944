import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { waitForValue } from "../support/wait-for.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "./cli-process.ts";

/**
 * The README's demo as a newcomer runs it: `meshsight start` on the embedded defaults, then
 * `meshsight simulate --fault ratings:abort:0.3` with no Kubernetes. The topology is exactly bookinfo's
 * graph plus the one outside caller of the gateway: no phantom UNKNOWN callers, each edge carrying all of
 * its calls.
 */

const BOOKINFO_EDGES = [
  "UNKNOWN -> istio-ingressgateway.istio-system",
  "istio-ingressgateway.istio-system -> productpage.default",
  "productpage.default -> details.default",
  "productpage.default -> reviews.default",
  "reviews.default -> ratings.default",
];

interface Topology {
  edges: { source: string; target: string; cpm: number }[];
}

const dataDir = mkdtempSync(join(tmpdir(), "meshsight-demo-"));
const runs: CliRun[] = [];
after(() => {
  for (const run of runs) killIfRunning(run);
  rmSync(dataDir, { recursive: true, force: true });
});

void describe("the README demo", () => {
  void it("shows exactly the bookinfo graph, with the callee's calls on each edge", async () => {
    const server = runCli(
      ["start", "--http-port", "0", "--host", "127.0.0.1", "--flush-interval-seconds", "1"],
      { MESHSIGHT_DATA_DIR: dataDir, ...RECEIVERS_ON_FREE_PORTS },
    );
    runs.push(server);
    const httpPort = await waitForHttpPort(server);
    const alsPort = await waitForListeningPort(server, "als");
    const simulate = runCli(["simulate", "--target", `127.0.0.1:${alsPort}`, "--rate", "40", "--duration", "3", "--fault", "ratings:abort:0.3"]);
    runs.push(simulate);
    assert.equal(await simulate.exited(), 0, simulate.stderr());
    const sent = /sent (\d+) requests/.exec(simulate.stdoutLines().join("\n"));
    assert.equal(Number(sent?.[1]), 120);

    const base = `http://127.0.0.1:${httpPort}`;
    const range = `from=${Date.now() - 10 * 60_000}&to=${Date.now() + 60_000}`;
    const get = async <T>(path: string): Promise<T> => (await fetch(`${base}${path}?${range}`)).json() as Promise<T>;
    // Every call of the run is in once the gateway has measured all the requests sent.
    const services = await waitForValue(async () => {
      const listed = await get<{ name: string; cpm: number; calls: number }[]>("/api/v1/services");
      return listed.find((service) => service.name === "istio-ingressgateway.istio-system")?.calls === 120 ? listed : undefined;
    }, "the simulated calls to be flushed", 30_000);
    const topology = await get<Topology>("/api/v1/topology");
    assert.deepEqual(topology.edges.map((edge) => `${edge.source} -> ${edge.target}`).sort(), [...BOOKINFO_EDGES].sort());
    const cpmOf = (name: string): number | undefined => services.find((service) => service.name === name)?.cpm;
    for (const edge of topology.edges.filter((edge) => edge.source !== "UNKNOWN")) {
      assert.equal(edge.cpm, cpmOf(edge.target), `${edge.source} -> ${edge.target} carries every call of its callee`);
    }
    const { code } = await stopWith(server, "SIGINT");
    assert.equal(code, 0, server.stderr());
  });
});
