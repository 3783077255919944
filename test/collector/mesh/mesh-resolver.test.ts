import assert from "node:assert/strict";
import { test } from "node:test";
import type { AccessLogEntry, MeshCall, ProxyIdentity } from "../../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../../core/model/dimensions.ts";
import { MeshResolver } from "../../../collector/mesh/mesh-resolver.ts";
import { StaticPeerResolver } from "../../../collector/mesh/peer-resolver.ts";
import { resolveProxyIdentity } from "../../../collector/mesh/proxy-identity.ts";
import { countingRejects, httpEntry, peer, tcpEntry } from "./entries.ts";

const reviewsSidecar = resolveProxyIdentity({
  id: "sidecar~10.44.1.27~reviews-v1-d66dcfdc5-kh6v7.default~default.svc.cluster.local",
  cluster: "reviews.default",
  metadata: { NAME: "reviews-v1-d66dcfdc5-kh6v7", NAMESPACE: "default", LABELS: { app: "reviews", version: "v1" } },
});
const productpageSidecar = resolveProxyIdentity({
  id: "sidecar~10.44.1.23~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local",
  cluster: "productpage.default",
  metadata: { NAME: "productpage-v1-6b746f74dc-9stvs", NAMESPACE: "default", LABELS: { app: "productpage" } },
});
const ingressGateway = resolveProxyIdentity({
  id: "router~10.44.2.56~istio-ingressgateway-699c7dc774-hjxq5.istio-system~istio-system.svc.cluster.local",
  cluster: "istio-ingressgateway",
  metadata: { NAME: "istio-ingressgateway-699c7dc774-hjxq5", NAMESPACE: "istio-system", LABELS: { app: "istio-ingressgateway" } },
});

const peers = new StaticPeerResolver([
  { match: "10.44.1.23", service: "productpage.default", instance: "productpage-v1-6b746f74dc-9stvs.default" },
  { match: "10.44.1.27", service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" },
]);

/** Endpoint naming is injected; this one shows what it was asked, so tests see the arguments. */
const nameEndpoint = (service: string, method: string, path: string, protocol: "http" | "grpc"): string =>
  protocol === "grpc" ? `${service}|${path}` : `${service}|${method}:${path}`;

function newResolver(): { resolver: MeshResolver; count: (reason: string) => Promise<number> } {
  const { rejects, count } = countingRejects();
  return { resolver: new MeshResolver({ peers, nameEndpoint, rejects }), count };
}

function resolveOne(proxy: ProxyIdentity, entry: AccessLogEntry, resolver = newResolver().resolver): MeshCall[] {
  const out: MeshCall[] = [];
  const produced = resolver.resolve(proxy, entry, out);
  assert.equal(produced, out.length);
  return out;
}

void test("sidecar inbound: a server-side call from the downstream peer (by IP) to this workload", () => {
  const [call, ...rest] = resolveOne(reviewsSidecar, httpEntry());
  assert.equal(rest.length, 0);
  assert.ok(call);
  assert.equal(call.detectPoint, "server");
  assert.deepEqual(call.source, { service: "productpage.default", instance: "productpage-v1-6b746f74dc-9stvs.default" });
  assert.deepEqual(call.destination, { service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
  assert.equal(call.endpoint, "reviews.default|GET:/reviews/0");
  assert.equal(call.component, "http");
  assert.equal(call.latencyMs, 11, "server latency is time to last downstream tx byte");
  assert.equal(call.isError, false);
  assert.equal(call.timeMs, 1_700_000_000_000);
  assert.equal(call.bytesOut, 295);
});

void test("sidecar inbound: the direct remote address wins over an X-Forwarded-For one; unknown IPs are UNKNOWN", () => {
  const [direct] = resolveOne(reviewsSidecar, httpEntry({ downstreamRemoteAddress: "203.0.113.9:1234" }));
  assert.equal(direct?.source.service, "productpage.default");
  const [unknown] = resolveOne(reviewsSidecar, httpEntry({ downstreamRemoteAddress: "10.99.0.1:5555", downstreamDirectRemoteAddress: "10.99.0.1:5555" }));
  assert.deepEqual(unknown?.source, { service: UNKNOWN_SERVICE, instance: "" });
});

void test("filter-state peer metadata is preferred over the IP", () => {
  const [call] = resolveOne(reviewsSidecar, httpEntry({ downstreamPeer: peer({ name: "ratings-v1-abc", service: "ratings", namespace: "shop" }) }));
  assert.deepEqual(call?.source, { service: "ratings.shop", instance: "ratings-v1-abc.shop" });
  const [fromLabels] = resolveOne(
    reviewsSidecar,
    httpEntry({ downstreamPeer: peer({ service: "", labels: { "app.kubernetes.io/name": "details" }, name: "details-1" }) }),
  );
  assert.deepEqual(fromLabels?.source, { service: "details.default", instance: "details-1.default" });
  const [empty] = resolveOne(reviewsSidecar, httpEntry({ downstreamPeer: peer({ service: "", workload: "", labels: {} }) }));
  assert.equal(empty?.source.service, "productpage.default", "metadata without a name falls through to the IP");
});

void test("sidecar outbound: a client-side call from this workload to the upstream peer", () => {
  const entry = httpEntry({
    upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local",
    upstreamRemoteAddress: "10.44.1.27:9080",
    downstreamRemoteAddress: "10.44.1.23:46520",
    downstreamLocalAddress: "10.0.45.184:9080",
  });
  const [call] = resolveOne(productpageSidecar, entry);
  assert.equal(call?.detectPoint, "client");
  assert.deepEqual(call?.source, productpageSidecar.self);
  assert.deepEqual(call?.destination, { service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
  assert.equal(call?.latencyMs, 9, "client latency is the upstream round trip");
  assert.equal(call?.endpoint, "reviews.default|GET:/reviews/0");
});

void test("sidecar outbound: upstream peer metadata first, then IP, then the cluster host", () => {
  const base = { upstreamCluster: "outbound|9080|v2|reviews.default.svc.cluster.local", upstreamRemoteAddress: "10.44.9.9:9080" };
  const [fromPeer] = resolveOne(productpageSidecar, httpEntry({ ...base, upstreamPeer: peer({ name: "reviews-v2-x", service: "reviews" }) }));
  assert.deepEqual(fromPeer?.destination, { service: "reviews.default", instance: "reviews-v2-x.default" });

  const { resolver } = newResolver();
  const [fromHost] = resolveOne(productpageSidecar, httpEntry(base), resolver);
  assert.deepEqual(fromHost?.destination, { service: "reviews.default", instance: "10.44.9.9:9080" });
  const [again] = resolveOne(productpageSidecar, httpEntry(base), resolver);
  assert.equal(again?.destination, fromHost?.destination, "the same ref object is reused, not rebuilt per call");

  const [sni] = resolveOne(productpageSidecar, httpEntry({ ...base, upstreamCluster: "outbound_.9080_._.ratings.shop.svc.cluster.local" }));
  assert.equal(sni?.destination.service, "ratings.shop");
  const [passthrough] = resolveOne(productpageSidecar, httpEntry({ ...base, upstreamCluster: "PassthroughCluster" }));
  assert.deepEqual(passthrough?.destination, { service: UNKNOWN_SERVICE, instance: "" });
  assert.equal(passthrough?.detectPoint, "client");
});

void test("a sidecar entry without a cluster is skipped and counted", async () => {
  const { resolver, count } = newResolver();
  const out: MeshCall[] = [];
  assert.equal(resolver.resolve(reviewsSidecar, httpEntry({ upstreamCluster: "", responseCode: 404, responseFlags: "NR" }), out), 0);
  assert.equal(out.length, 0);
  assert.equal(await count("sidecar_entry_without_cluster"), 1);
});

void test("a gateway entry yields both legs, each with its own latency and error rule", () => {
  const entry = httpEntry({
    upstreamCluster: "outbound|9080||productpage.default.svc.cluster.local",
    downstreamRemoteAddress: "198.51.100.7:51000",
    downstreamDirectRemoteAddress: "198.51.100.7:51000",
    downstreamLocalAddress: "10.44.2.56:8080",
    upstreamRemoteAddress: "10.44.1.23:9080",
    path: "/productpage?u=normal",
    responseCode: 404,
    timeToLastDownstreamTxMs: 30,
    upstreamLatencyMs: 25,
  });
  const out: MeshCall[] = [{} as MeshCall];
  assert.equal(newResolver().resolver.resolve(ingressGateway, entry, out), 2);
  assert.equal(out.length, 3, "calls are appended, earlier contents kept");
  const [, server, client] = out;
  assert.equal(server?.detectPoint, "server");
  assert.deepEqual(server?.source, { service: UNKNOWN_SERVICE, instance: "" });
  assert.deepEqual(server?.destination, ingressGateway.self);
  assert.equal(server?.endpoint, "istio-ingressgateway.istio-system|GET:/productpage");
  assert.equal(server?.latencyMs, 30);
  assert.equal(server?.isError, false, "a 404 is not the server's failure");
  assert.equal(client?.detectPoint, "client");
  assert.deepEqual(client?.source, ingressGateway.self);
  assert.equal(client?.destination.service, "productpage.default");
  assert.equal(client?.endpoint, "productpage.default|GET:/productpage");
  assert.equal(client?.latencyMs, 25);
  assert.equal(client?.isError, true, "a 404 fails the client");
});

void test("a gateway entry without an upstream (no route) yields only the server leg", () => {
  const calls = resolveOne(ingressGateway, httpEntry({ upstreamCluster: "", responseCode: 404, responseFlags: "NR" }));
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.detectPoint, "server");
  assert.equal(calls[0]?.isError, true, "a response flag is always an error");
});

void test("error rule: server >= 500, client >= 400, any flag; code 0 counts as 200 unless flagged", () => {
  const outbound = "outbound|9080||reviews.default.svc.cluster.local";
  const cases: Array<[Partial<AccessLogEntry>, boolean, boolean, number]> = [
    // overrides, server error, client error, reported code
    [{ responseCode: 200 }, false, false, 200],
    [{ responseCode: 404 }, false, true, 404],
    [{ responseCode: 499 }, false, true, 499],
    [{ responseCode: 503 }, true, true, 503],
    [{ responseCode: 0 }, false, false, 200],
    [{ responseCode: 0, responseFlags: "UH" }, true, true, 0],
    [{ responseCode: 200, responseFlags: "DC" }, true, true, 200],
    [{ responseCode: 200, responseFlags: "-" }, false, false, 200],
  ];
  for (const [overrides, serverError, clientError, code] of cases) {
    const [server] = resolveOne(reviewsSidecar, httpEntry(overrides));
    const [client] = resolveOne(productpageSidecar, httpEntry({ ...overrides, upstreamCluster: outbound }));
    assert.equal(server?.isError, serverError, `server ${JSON.stringify(overrides)}`);
    assert.equal(client?.isError, clientError, `client ${JSON.stringify(overrides)}`);
    assert.equal(server?.responseCode, code);
  }
});

void test("latency rule: precise timing, else duration, never below 1 ms", () => {
  const latency = (proxy: ProxyIdentity, overrides: Partial<AccessLogEntry>): number | undefined => resolveOne(proxy, httpEntry(overrides))[0]?.latencyMs;
  const outbound = { upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local" };
  assert.equal(latency(reviewsSidecar, { timeToLastDownstreamTxMs: -1, durationMs: 40 }), 40);
  assert.equal(latency(reviewsSidecar, { timeToLastDownstreamTxMs: 0, durationMs: 0 }), 1);
  assert.equal(latency(productpageSidecar, { ...outbound, upstreamLatencyMs: -1, durationMs: 17 }), 17);
  assert.equal(latency(productpageSidecar, { ...outbound, upstreamLatencyMs: 0.2 }), 1);
  assert.equal(latency(productpageSidecar, { ...outbound, upstreamLatencyMs: -1, durationMs: -1 }), 1);
});

void test("gRPC is recognized by POST to /package.Service/Method, a grpc user agent or scheme", () => {
  const grpc = (overrides: Partial<AccessLogEntry>): MeshCall | undefined => resolveOne(reviewsSidecar, httpEntry(overrides))[0];
  const byPath = grpc({ method: "POST", path: "/helloworld.Greeter/SayHello", userAgent: "custom" });
  assert.equal(byPath?.component, "grpc");
  assert.equal(byPath?.endpoint, "reviews.default|/helloworld.Greeter/SayHello");
  assert.equal(grpc({ method: "POST", path: "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs" })?.component, "grpc");
  assert.equal(grpc({ method: "POST", path: "/x/y", userAgent: "grpc-go/1.62.1" })?.component, "grpc");
  assert.equal(grpc({ method: "POST", path: "/v1.0/users" })?.component, "http", "REST paths with dots stay http");
  assert.equal(grpc({ method: "GET", path: "/helloworld.Greeter/SayHello" })?.component, "http");
  assert.equal(grpc({ method: "POST", path: "/helloworld.Greeter/SayHello/extra" })?.component, "http");
});

void test("TCP entries: tcp, tls or mtls by TLS mode, and no endpoint", () => {
  for (const [tlsMode, component] of [["none", "tcp"], ["tls", "tls"], ["mtls", "mtls"]] as const) {
    const [call] = resolveOne(reviewsSidecar, tcpEntry({ tlsMode, upstreamCluster: "inbound|3306||" }));
    assert.equal(call?.component, component);
    assert.equal(call?.endpoint, "");
    assert.equal(call?.responseCode, 0);
    assert.equal(call?.isError, false);
  }
  const [reset] = resolveOne(reviewsSidecar, tcpEntry({ responseFlags: "UF" }));
  assert.equal(reset?.isError, true);
});

void test("endpoints drop the query string and fragment", () => {
  const endpoint = (path: string): string | undefined => resolveOne(reviewsSidecar, httpEntry({ path }))[0]?.endpoint;
  assert.equal(endpoint("/search?q=shoes&page=2"), "reviews.default|GET:/search");
  assert.equal(endpoint("/a#frag"), "reviews.default|GET:/a");
  assert.equal(endpoint(""), "reviews.default|GET:/");
  assert.equal(endpoint("?only=query"), "reviews.default|GET:/");
});

void test("plain Envoy (no Istio node id) is treated as an edge proxy; its cluster name names the upstream", () => {
  const frontEnvoy = resolveProxyIdentity({ id: "front-envoy-1", cluster: "front-proxy", metadata: {} });
  const calls = resolveOne(frontEnvoy, httpEntry({ upstreamCluster: "backend", upstreamRemoteAddress: "192.0.2.10:8080" }));
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]?.destination, { service: "backend", instance: "192.0.2.10:8080" });
});
