import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccessLogEntry, MeshCall, ProxyIdentity } from "../../../core/model/access-log.ts";
import { serviceFromAuthority } from "../../../collector/mesh/learned-self.ts";
import { MeshResolver } from "../../../collector/mesh/mesh-resolver.ts";
import { NullPeerResolver, StaticPeerResolver, type PeerResolver } from "../../../collector/mesh/peer-resolver.ts";
import { identityFromPath } from "../../../collector/receivers/access-log/source-identity.ts";
import { countingRejects, httpEntry } from "./entries.ts";

/** A tailed kubelet log file: the pod name alone guesses the service `reviews-v1.default`. */
function tailedReviewsPod(): ProxyIdentity {
  const identity = identityFromPath("/var/log/pods/default_reviews-v1-d66dcfdc5-kh6v7_0b5e-41/istio-proxy/0.log", "kubernetes");
  assert.ok(identity);
  return identity;
}

function resolveAll(resolver: MeshResolver, proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): MeshCall[] {
  const out: MeshCall[] = [];
  for (const entry of entries) resolver.resolve(proxy, entry, out);
  return out;
}

function newResolver(peers: PeerResolver = new NullPeerResolver()): MeshResolver {
  return new MeshResolver({ peers, nameEndpoint: (service, method, path) => `${service}|${method}:${path}`, rejects: countingRejects().rejects });
}

const plaintextInbound = { requestedServerName: "", authority: "", tlsMode: "none" as const };
const outbound = httpEntry({ upstreamCluster: "outbound|9080||ratings.default.svc.cluster.local", upstreamLocalAddress: "10.44.1.27:51234", authority: "ratings:9080" });

void describe("learning the service of a tailed pod", () => {
  it("marks only a pod-name guess as one", () => {
    assert.equal(tailedReviewsPod().self.service, "reviews-v1.default");
    assert.equal(tailedReviewsPod().selfIsGuess, true);
    const named = identityFromPath("/logs/reviews/default/x.log", /\/logs\/(?<service>[^/]+)\/(?<namespace>[^/]+)\//);
    assert.equal(named?.selfIsGuess, false);
  });

  it("takes the inbound SNI's service, keeps the pod as instance, and uses it for later outbound calls too", () => {
    const resolver = newResolver();
    const proxy = tailedReviewsPod();
    const [server, client] = resolveAll(resolver, proxy, [httpEntry(), outbound]);
    assert.deepEqual(server?.destination, { service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
    assert.equal(client?.source.service, "reviews.default");
    assert.equal(resolver.selfOf(proxy).service, "reviews.default");
  });

  it("keeps the guess until an entry tells, then keeps what it learned", () => {
    const resolver = newResolver();
    const proxy = tailedReviewsPod();
    const [first] = resolveAll(resolver, proxy, [outbound]);
    assert.equal(first?.source.service, "reviews-v1.default", "an outbound entry alone does not name the pod's service");
    resolveAll(resolver, proxy, [httpEntry({ ...plaintextInbound, authority: "reviews:9080" })]);
    const [later] = resolveAll(resolver, proxy, [httpEntry({ ...plaintextInbound, authority: "bookinfo.example.com" })]);
    assert.equal(later?.destination.service, "reviews.default");
  });

  it("prefers the peer resolver's name for the pod's own address over what callers wrote", () => {
    const peers = new StaticPeerResolver([{ match: "10.44.1.27", service: "reviews-svc.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" }]);
    const [call] = resolveAll(newResolver(peers), tailedReviewsPod(), [httpEntry()]);
    assert.equal(call?.destination.service, "reviews-svc.default");
  });

  it("never renames a proxy whose identity is known", () => {
    const proxy = { ...tailedReviewsPod(), selfIsGuess: false };
    const [call] = resolveAll(newResolver(), proxy, [httpEntry()]);
    assert.equal(call?.destination.service, "reviews-v1.default");
  });
});

void describe("serviceFromAuthority", () => {
  it("accepts Kubernetes service names of the proxy's namespace", () => {
    for (const authority of ["reviews", "reviews:9080", "reviews.default", "reviews.default.svc:9080", "Reviews.default.svc.cluster.local:9080"]) {
      assert.equal(serviceFromAuthority(authority, "default"), "reviews.default", authority);
    }
  });

  it("refuses public hosts, IPs, localhost and other namespaces", () => {
    for (const authority of ["bookinfo.example.com", "10.44.1.27:9080", "localhost:15000", "reviews.other", "reviews.other.svc.cluster.local", "[::1]:80", ""]) {
      assert.equal(serviceFromAuthority(authority, "default"), "", authority);
    }
  });
});
