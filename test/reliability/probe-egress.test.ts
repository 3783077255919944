/**
 * Request forgery through probes (docs/probes.md "Egress policy"): the policy's decisions, and the kinds
 * applying them after DNS resolution and on every redirect hop. Every server here listens on loopback; a
 * denial is shown by its decision and by the server never seeing a connection, never by reaching any
 * other address.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../../core/http/app.ts";
import { createApiAuth, sha256Hex } from "../../core/http/auth.ts";
import { EgressPolicy, type EgressPolicyOptions } from "../../prober/egress/egress-policy.ts";
import { EXCERPT_MAX_CHARS } from "../../prober/kinds/excerpt.ts";
import { grpcKind } from "../../prober/kinds/grpc-kind.ts";
import { httpKind } from "../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../prober/kinds/tcp-kind.ts";
import { tlsKind } from "../../prober/kinds/tls-kind.ts";
import { dnsKind } from "../../prober/kinds/dns-kind.ts";
import { parsePromText, sampleValue } from "../prober/api/prom-text.ts";
import { lookup, proberHarness, silentLogger } from "../prober/helpers.ts";
import { contextWithTimeout } from "../prober/kinds/support/servers.ts";

const policy = (options: Partial<EgressPolicyOptions> = {}) => new EgressPolicy({ allow: [], deny: [], defaultAction: "allow", ...options });

/** A loopback HTTP server that counts the connections it accepted. */
async function countingServer(host: string, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ origin: string; port: number; connections: () => number; close: () => Promise<void> }> {
  const server = createServer(handler);
  let connections = 0;
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("probe egress policy: decisions", () => {
  it("denies loopback, this host, link-local and cloud metadata by default, and allows private and public ranges", async () => {
    const defaults = policy();
    for (const [address, rule] of [
      ["127.0.0.1", /loopback/],
      ["127.9.9.9", /loopback/],
      ["::1", /loopback/],
      ["::ffff:127.0.0.1", /loopback/],
      ["::ffff:7f00:1", /loopback/],
      ["0.0.0.0", /this host/],
      ["::", /this host/],
      ["169.254.169.254", /cloud metadata/],
      ["fd00:ec2::254", /cloud metadata/],
      ["169.254.10.1", /link-local/],
      ["fe80::1%eth0", /link-local/],
    ] as const) {
      const decision = await defaults.check(address, address, 80);
      assert.equal(decision.isAllowed, false, address);
      assert.match(decision.rule, rule, address);
    }
    for (const address of ["10.1.2.3", "172.16.0.1", "192.168.1.10", "fd12::1", "8.8.8.8"]) assert.equal((await defaults.check(address, address, 80)).isAllowed, true, address);
  });

  it("checks the resolved address, so a name does not change the answer", async () => {
    const decision = await policy().check("localhost", "127.0.0.1", 8080);
    assert.equal(decision.isAllowed, false);
    assert.match(decision.rule, /loopback/);
  });

  it("lets the longest matching entry decide: allow lists open ranges, metadata stays closed unless named exactly", async () => {
    const withLoopback = policy({ allow: ["127.0.0.0/8", "169.254.0.0/16"] });
    assert.equal((await withLoopback.check("127.0.0.1", "127.0.0.1", 80)).isAllowed, true);
    assert.equal((await withLoopback.check("169.254.20.10", "169.254.20.10", 53)).isAllowed, true, "NodeLocal DNSCache");
    assert.equal((await withLoopback.check("169.254.169.254", "169.254.169.254", 80)).isAllowed, false, "metadata is a /32");
    assert.equal((await policy({ allow: ["169.254.169.254"] }).check("169.254.169.254", "169.254.169.254", 80)).isAllowed, true);

    const carved = policy({ deny: ["10.0.0.0/8"], allow: ["10.1.2.3"] });
    assert.equal((await carved.check("10.1.2.3", "10.1.2.3", 80)).isAllowed, true);
    const denied = await carved.check("10.9.9.9", "10.9.9.9", 80);
    assert.deepEqual(denied, { isAllowed: false, rule: "prober.egress.deny 10.0.0.0/8" });
    assert.equal((await policy({ deny: ["10.0.0.0/8"], allow: ["10.0.0.0/8"] }).check("10.0.0.1", "10.0.0.1", 80)).isAllowed, false, "deny wins a tie");
  });

  it("matches host entries on the name the probe was given, exact names before wildcards", async () => {
    const hosts = policy({ deny: ["*.internal"], allow: ["ok.internal", "localhost"] });
    assert.equal((await hosts.check("db.internal", "10.0.0.9", 5432)).isAllowed, false);
    assert.equal((await hosts.check("DB.Internal.", "10.0.0.9", 5432)).isAllowed, false, "case and a trailing dot do not matter");
    assert.equal((await hosts.check("ok.internal", "10.0.0.9", 80)).isAllowed, true);
    assert.equal((await hosts.check("localhost", "127.0.0.1", 80)).isAllowed, true, "an allowed name is the operator's choice");
    assert.equal((await hosts.check("127.0.0.1", "127.0.0.1", 80)).isAllowed, false, "host entries never match a literal address");
  });

  it("never reaches meshsight's own storage and queue endpoints, and closes their hosts' other ports unless allowed", async () => {
    const own = ["http://default:secret@clickhouse.meshsight:8123", "redis://redis.meshsight"];
    const resolveHost = async (host: string) => (host === "clickhouse.meshsight" ? ["10.0.0.5"] : host === "redis.meshsight" ? ["10.0.0.6"] : []);
    const strict = policy({ ownServiceUrls: own, resolveHost });
    assert.match((await strict.check("clickhouse.meshsight", "10.0.0.5", 8123)).rule, /own storage or queue/);
    assert.equal((await strict.check("10.0.0.5", "10.0.0.5", 9000)).isAllowed, false, "the storage host's other ports");
    assert.equal((await strict.check("10.0.0.6", "10.0.0.6", 6379)).isAllowed, false, "redis:// without a port is 6379");
    const opened = policy({ allow: ["10.0.0.0/8"], ownServiceUrls: own, resolveHost });
    assert.equal((await opened.check("10.0.0.5", "10.0.0.5", 9000)).isAllowed, true);
    assert.equal((await opened.check("10.0.0.5", "10.0.0.5", 8123)).isAllowed, false, "no allow entry opens the storage endpoint itself");
  });

  it("with defaultAction deny, reaches only what is allowed", async () => {
    const closed = policy({ defaultAction: "deny", allow: ["10.1.0.0/16"] });
    assert.equal((await closed.check("10.1.2.3", "10.1.2.3", 80)).isAllowed, true);
    assert.deepEqual(await closed.check("10.2.0.1", "10.2.0.1", 80), { isAllowed: false, rule: "prober.egress.defaultAction deny" });
  });
});

describe("probe egress policy: the kinds apply it at connect time", () => {
  let target: Awaited<ReturnType<typeof countingServer>>;
  let other: Awaited<ReturnType<typeof countingServer>> | undefined;


  before(async () => {
    target = await countingServer("127.0.0.1", (request, response) => {
      if (request.url === "/to-other" && other) return void response.writeHead(302, { location: `${other.origin}/secret` }).end();
      if (request.url === "/to-ipv6-loopback") return void response.writeHead(302, { location: `http://[::1]:${target.port}/` }).end();
      if (request.url === "/secret") return void response.writeHead(503).end(`secret:${"x".repeat(10_000)}`);
      if (request.url === "/json") return void response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: `DOWN ${"y".repeat(5_000)}` }));
      response.end("fine");
    });
    // A second loopback address: the redirect target that an allow list naming only 127.0.0.1 must not reach.
    other = await countingServer("127.0.0.2", (_request, response) => response.end("reached")).catch(() => undefined);
  });

  after(async () => {
    await target.close();
    await other?.close();
  });

  it("an http probe of a loopback address is denied by default and never connects", async () => {
    const before = target.connections();
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${target.origin}/`, contextWithTimeout(5_000, { egress: policy() }));
    assert.equal(outcome.status, "error");
    assert.match(outcome.message, /^connecting to 127\.0\.0\.1:\d+: the probe egress policy denies 127\.0\.0\.1:\d+: loopback \(built-in\)$/);
    assert.equal(target.connections(), before);
  });

  it("a name resolving to loopback (localhost) is denied after resolution", async () => {
    const before = target.connections();
    const http = await httpKind.run(httpKind.parseSpec({}), `http://localhost:${target.port}/`, contextWithTimeout(5_000, { egress: policy() }));
    assert.equal(http.status, "error");
    assert.match(http.message, /the probe egress policy denies localhost \((127\.0\.0\.1|\[::1\]):\d+\): loopback/);
    const tcp = await tcpKind.run(tcpKind.parseSpec({}), `localhost:${target.port}`, contextWithTimeout(5_000, { egress: policy() }));
    assert.equal(tcp.status, "error");
    assert.match(tcp.message, /loopback/);
    const grpc = await grpcKind.run(grpcKind.parseSpec({}), `localhost:${target.port}`, contextWithTimeout(5_000, { egress: policy() }));
    assert.equal(grpc.status, "error");
    assert.match(grpc.message, /loopback/);
    assert.equal(target.connections(), before);
  });

  it("169.254.169.254 is denied without opening a socket, by every kind that connects", async () => {
    // Node publishes every client socket it creates on this channel (node:net), so none can go unseen.
    let sockets = 0;
    const onSocket = () => (sockets += 1);
    subscribe("net.client.socket", onSocket);
    try {
      const context = () => contextWithTimeout(5_000, { egress: policy({ allow: ["127.0.0.0/8"] }) });
      const outcomes = [
        await httpKind.run(httpKind.parseSpec({}), "http://169.254.169.254/latest/meta-data/iam/security-credentials/", context()),
        await httpKind.run(httpKind.parseSpec({}), "http://[::ffff:169.254.169.254]/latest/meta-data/", context()),
        await tcpKind.run(tcpKind.parseSpec({}), "169.254.169.254:80", context()),
        await tlsKind.run(tlsKind.parseSpec({}), "169.254.169.254:443", context()),
        await grpcKind.run(grpcKind.parseSpec({}), "169.254.169.254:50051", context()),
        await dnsKind.run(dnsKind.parseSpec({ server: "169.254.169.254:53" }), "example.com", context()),
      ];
      for (const outcome of outcomes) {
        assert.equal(outcome.status, "error", outcome.message);
        assert.match(outcome.message, /egress policy denies .*cloud metadata service \(built-in\)/);
      }
      assert.equal(sockets, 0);
      // The channel does see sockets: an allowed probe opens one.
      assert.equal((await httpKind.run(httpKind.parseSpec({}), `${target.origin}/`, context())).status, "success");
      assert.equal(sockets, 1);
    } finally {
      unsubscribe("net.client.socket", onSocket);
    }
  });

  it("a redirect to a loopback address the policy does not allow is denied at that hop", async () => {
    const onlyThis = () => contextWithTimeout(5_000, { egress: policy({ allow: ["127.0.0.1/32"] }) });
    const ipv6 = await httpKind.run(httpKind.parseSpec({}), `${target.origin}/to-ipv6-loopback`, onlyThis());
    assert.equal(ipv6.status, "error");
    assert.match(ipv6.message, /^connecting to ::1:\d+: the probe egress policy denies \[::1\]:\d+: loopback/);
    assert.equal(ipv6.metrics.http_redirects, 1);
    assert.ok(other, "a server on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback)");
    {
      const before = other.connections();
      const outcome = await httpKind.run(httpKind.parseSpec({}), `${target.origin}/to-other`, onlyThis());
      assert.equal(outcome.status, "error");
      assert.match(outcome.message, /denies 127\.0\.0\.2:\d+: loopback/);
      assert.equal(other.connections(), before, "the redirect target saw no connection");
    }
  });

  it("meshsight's own storage endpoint is denied even with loopback allowed", async () => {
    const egress = policy({ allow: ["127.0.0.0/8"], ownServiceUrls: [target.origin] });
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${target.origin}/`, contextWithTimeout(5_000, { egress }));
    assert.equal(outcome.status, "error");
    assert.match(outcome.message, /own storage or queue/);
  });

  it("results quote at most a short excerpt of a body or a JSON value", async () => {
    const egress = policy({ allow: ["127.0.0.0/8"] });
    const status = await httpKind.run(httpKind.parseSpec({}), `${target.origin}/secret`, contextWithTimeout(5_000, { egress }));
    assert.equal(status.status, "failure");
    const quoted = /\(body: "([^"]*)"\.\.\.\)$/.exec(status.message);
    assert.ok(quoted, status.message);
    assert.ok(quoted[1]!.length <= EXCERPT_MAX_CHARS, status.message);
    const json = await httpKind.run(httpKind.parseSpec({ json: [{ path: "$.status", equals: "UP" }] }), `${target.origin}/json`, contextWithTimeout(5_000, { egress }));
    assert.equal(json.status, "failure");
    assert.ok(json.message.length < 200, json.message);
    assert.match(json.message, /^\$\.status is "DOWN y+\.\.\., expected "UP"$/);
  });
});

describe("GET /probe under API tokens", () => {
  it("needs the probes:run scope, and probes only what the egress policy allows", async () => {
    const target = await countingServer("127.0.0.1", (_request, response) => response.end("fine"));
    // The default policy: no loopback.
    const harness = await proberHarness(lookup(httpKind), { egress: { allow: [], deny: [], defaultAction: "allow" } });
    await harness.start();
    const tokens = { prober: "prober-5c1e", gate: "gate-9a7b" };
    const auth = createApiAuth(
      {
        tokens: [
          { name: "prometheus", sha256: sha256Hex(tokens.prober), scopes: ["probes:run"] },
          { name: "ci", sha256: sha256Hex(tokens.gate), scopes: ["gate:check"] },
        ],
        readApisOpen: true,
        protectIngest: false,
      },
      silentLogger,
    );
    const app = buildApp({ logger: silentLogger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1_000_000, routes: harness.prober.routes, authorize: auth.authorize });
    try {
      const url = `/probe?module=http_2xx&target=${encodeURIComponent(`${target.origin}/`)}`;
      assert.equal((await app.inject({ method: "GET", url })).statusCode, 401);
      assert.equal((await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${tokens.gate}` } })).statusCode, 403);
      const allowed = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${tokens.prober}` } });
      assert.equal(allowed.statusCode, 200, allowed.body);
      assert.equal(sampleValue(parsePromText(allowed.body), "probe_success"), 0);
      assert.equal(target.connections(), 0);
    } finally {
      await app.close();
      await harness.stop();
      await target.close();
    }
  });
});
