import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dnsKind } from "../../../prober/kinds/dns-kind.ts";
import { startDnsServer } from "./support/dns-server.ts";
import { contextWithTimeout } from "./support/servers.ts";

describe("dns probe kind", () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;

  before(async () => {
    dns = await startDnsServer(
      {
        "web.mesh.test": [
          { type: "A", name: "web.mesh.test", ttl: 60, data: "10.0.0.1" },
          { type: "A", name: "web.mesh.test", ttl: 60, data: "10.0.0.2" },
        ],
        "mesh.test": [
          { type: "MX", name: "mesh.test", ttl: 60, data: { preference: 10, exchange: "mail.mesh.test" } },
          { type: "TXT", name: "mesh.test", ttl: 60, data: ["v=spf1 ", "-all"] },
        ],
        "_grpc._tcp.mesh.test": [{ type: "SRV", name: "_grpc._tcp.mesh.test", ttl: 60, data: { priority: 1, weight: 5, port: 8443, target: "api.mesh.test" } }],
        "alias.mesh.test": [{ type: "CNAME", name: "alias.mesh.test", ttl: 60, data: "web.mesh.test" }],
      },
      ["slow.mesh.test"],
    );
  });

  after(() => dns.close());

  it("passes on real A answers and counts them", async () => {
    const spec = dnsKind.parseSpec({ server: dns.server, expectedAnswers: ["10.0.0.1", "/^10\\.0\\.0\\.2$/"], minAnswers: 2 });
    const outcome = await dnsKind.run(spec, "web.mesh.test", contextWithTimeout(5_000));
    assert.equal(outcome.status, "success", outcome.message);
    assert.equal(outcome.metrics.dns_answer_rrs, 2);
    assert.equal(typeof outcome.phases.resolve, "number");
  });

  it("fails naming the expectation and the answers it got", async () => {
    const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, expectedAnswers: ["10.9.9.9"] }), "web.mesh.test", contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, `A web.mesh.test at ${dns.server}: no answer matches "10.9.9.9"; got ["10.0.0.1","10.0.0.2"]`);
  });

  it("fails when there are fewer answers than minAnswers", async () => {
    const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, minAnswers: 3 }), "web.mesh.test", contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /returned 2 answers, expected at least 3$/);
  });

  it("reads MX, TXT, SRV and CNAME answers as text", async () => {
    const cases = [
      { recordType: "MX", name: "mesh.test", answer: "10 mail.mesh.test" },
      { recordType: "TXT", name: "mesh.test", answer: "v=spf1 -all" },
      { recordType: "SRV", name: "_grpc._tcp.mesh.test", answer: "1 5 8443 api.mesh.test" },
      { recordType: "CNAME", name: "alias.mesh.test", answer: "web.mesh.test" },
    ];
    for (const { recordType, name, answer } of cases) {
      const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, recordType, expectedAnswers: [answer] }), name, contextWithTimeout(5_000));
      assert.equal(outcome.status, "success", `${recordType}: ${outcome.message}`);
    }
  });

  it("asks a server over tcp, for any type, and passes the rcodes of validRcodes", async () => {
    const soa = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, transport: "tcp", recordType: "MX", expectedAnswers: ["10 mail.mesh.test"] }), "mesh.test", contextWithTimeout(5_000));
    assert.equal(soa.status, "success", soa.message);
    assert.equal(dns.heard.at(-1)?.transport, "tcp");
    const missing = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, recordType: "NS", validRcodes: ["NXDOMAIN"], minAnswers: 0 }), "missing.mesh.test", contextWithTimeout(5_000));
    assert.equal(missing.status, "success", missing.message);
    assert.deepEqual(missing.metrics, { dns_answer_rrs: 0, dns_authority_rrs: 0, dns_additional_rrs: 0, dns_query_succeeded: 1, ip_protocol: 4, ip_addr_hash: 3668918509 });
    assert.deepEqual(Object.keys(missing.phases), ["resolve", "connect", "request", "total"]);
  });

  it("fails on records of a section that a validator refuses, naming the record", async () => {
    const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server, validateAnswer: { failIfMatches: ["10\\.0\\.0\\.2$"] } }), "web.mesh.test", contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, 'answer records: "web.mesh.test.\\t60\\tIN\\tA\\t10.0.0.2" matches fail_if_matches_regexp /10\\.0\\.0\\.2$/');
  });

  it("names NXDOMAIN", async () => {
    const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server }), "missing.mesh.test", contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, `asking A missing.mesh.test at ${dns.server} failed: the name does not exist (NXDOMAIN)`);
  });

  it("stops at the signal when the server does not answer", async () => {
    const started = Date.now();
    const outcome = await dnsKind.run(dnsKind.parseSpec({ server: dns.server }), "slow.mesh.test", contextWithTimeout(300));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, `timed out after 300ms asking A slow.mesh.test at ${dns.server}`);
    assert.ok(Date.now() - started < 3_000);
  });

  it("refuses bad specs naming the field", () => {
    assert.throws(() => dnsKind.parseSpec({ recordType: "PTR" }), /^InvalidProbeSpecError: recordType: expected A, AAAA/);
    assert.throws(() => dnsKind.parseSpec({ server: "a:b:c:d" }), /^InvalidProbeSpecError: server: /);
    assert.throws(() => dnsKind.parseSpec({ transport: "tcp" }), /^InvalidProbeSpecError: transport: needs a server/);
    assert.throws(() => dnsKind.parseSpec({ server: "127.0.0.1", validRcodes: ["NOPE"] }), /^InvalidProbeSpecError: validRcodes\.0: expected rcodes among NOERROR/);
    assert.throws(() => dnsKind.parseSpec({ server: "127.0.0.1", validateAnswer: { failIfMatches: ["(?=x)"] } }), /^InvalidProbeSpecError: validateAnswer\.failIfMatches\.0: .*lookarounds/);
    assert.throws(() => dnsKind.parseSpec({ expectedAnswers: ["/(/"] }), /expectedAnswers\.0: not a valid regular expression/);
  });
});
