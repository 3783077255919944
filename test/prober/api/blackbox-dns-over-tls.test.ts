/**
 * blackbox_exporter's DNS over TLS through `GET /probe` (docs/probes.md "Blackbox exporter"): a dns
 * module with `dns_over_tls: true`, `transport_protocol: tcp` and `tls_config`, against a real DNS-over-TLS
 * server on loopback (RFC 7858: tcp's two-byte framing inside TLS) with a test certificate. As
 * prober/dns.go, the answer has the plain dns metrics and no TLS gauges.
 */
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { STANDARD_MODULES, parseBlackboxModules } from "../../../prober/blackbox/module-file.ts";
import { planModule } from "../../../prober/blackbox/module-plan.ts";
import { dnsKind } from "../../../prober/kinds/dns-kind.ts";
import { lookup } from "../helpers.ts";
import { generateCertificates } from "../kinds/support/certificates.ts";
import { startDnsServer, type TestDnsServer } from "../kinds/support/dns-server.ts";
import { startBlackboxApp, type BlackboxApp } from "./blackbox-app.ts";
import { parsePromText, sampleValue, type PromSample } from "./prom-text.ts";

const dnsModule = (name: string, options: Record<string, unknown>) => `  ${name}: ${JSON.stringify({ prober: "dns", dns: { query_name: "example.com", query_type: "A", ...options } })}\n`;
const overTls = { transport_protocol: "tcp", dns_over_tls: true };
/** FNV-1a 32 of 127.0.0.1's bytes, as blackbox's probe_ip_addr_hash (computed outside the code under test). */
const HASH_127_0_0_1 = 3668918509;

describe("GET /probe with blackbox DNS over TLS", () => {
  const certificates = generateCertificates(30);
  let dot: TestDnsServer;
  let plain: TestDnsServer;
  let started: BlackboxApp;
  let app: FastifyInstance;
  let logLines: string[] = [];
  const file = join(tmpdir(), `meshsight-blackbox-dot-${process.pid}.yml`);
  const zone = { "example.com": [{ type: "A" as const, name: "example.com", ttl: 300, data: "192.0.2.10" }] };

  const probe = async (module: string, target: string): Promise<PromSample[]> => {
    const response = await app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
    assert.equal(response.statusCode, 200, response.body);
    return parsePromText(response.body);
  };

  before(async () => {
    dot = await startDnsServer(zone, [], { tls: certificates.valid });
    plain = await startDnsServer(zone);
    const ca = certificates.valid.certPem;
    await writeFile(
      file,
      `modules:\n${[
        dnsModule("dot", { ...overTls, tls_config: { ca } }),
        dnsModule("dot_untrusted", overTls),
        dnsModule("dot_insecure", { ...overTls, tls_config: { insecure_skip_verify: true } }),
        dnsModule("dot_server_name", { ...overTls, tls_config: { ca, server_name: "localhost" } }),
        dnsModule("dot_wrong_name", { ...overTls, tls_config: { ca, server_name: "other.example" } }),
        dnsModule("dot_over_udp", { dns_over_tls: true, tls_config: { ca } }),
        dnsModule("tcp_ignoring_tls_config", { transport_protocol: "tcp", tls_config: { ca } }),
      ].join("")}`,
    );
    started = await startBlackboxApp(lookup(dnsKind), { blackboxConfigFile: file });
    app = started.app;
    logLines = started.logLines;
  });

  after(async () => {
    await started.stop();
    await dot.close();
    await plain.close();
    await rm(file, { force: true });
  });

  it("asks a DNS-over-TLS server with the module's CA and answers with the plain dns metrics and no TLS gauges, as prober/dns.go", async () => {
    const overTlsAnswer = await probe("dot", dot.server);
    const overTcpAnswer = await probe("dns_tcp", plain.server);
    assert.deepEqual(dot.heard, [{ transport: "tls", name: "example.com", type: "A", class: "IN", isRecursionDesired: true }]);
    const values = (samples: PromSample[]) =>
      ["probe_success", "probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs", "probe_dns_query_succeeded", "probe_ip_protocol", "probe_ip_addr_hash"].map((name) => sampleValue(samples, name));
    assert.deepEqual(values(overTlsAnswer), [1, 1, 0, 0, 1, 4, HASH_127_0_0_1]);
    assert.deepEqual(values(overTlsAnswer), values(overTcpAnswer));
    const names = (samples: PromSample[]) => [...new Set(samples.map((sample) => sample.name))].sort();
    assert.deepEqual(names(overTlsAnswer), names(overTcpAnswer), "the same metric families as plain dns: blackbox's dns prober has no TLS gauges");
    for (const phase of ["resolve", "connect", "request"]) assert.ok((sampleValue(overTlsAnswer, "probe_dns_duration_seconds", { phase }) ?? -1) >= 0, phase);
  });

  it("verifies the server's certificate (against the target's address, or server_name) unless insecure_skip_verify", async () => {
    const expectations: Array<[module: string, success: number, querySucceeded: number, ipProtocol: number]> = [
      ["dot_untrusted", 0, 0, 4],
      ["dot_insecure", 1, 1, 4],
      ["dot_server_name", 1, 1, 4],
      ["dot_wrong_name", 0, 0, 4],
    ];
    const rows: Array<[string, ...Array<number | undefined>]> = [];
    for (const [module] of expectations) {
      const samples = await probe(module, dot.server);
      rows.push([module, ...["probe_success", "probe_dns_query_succeeded", "probe_ip_protocol"].map((name) => sampleValue(samples, name))]);
    }
    assert.deepEqual(rows, expectations);
    assert.equal(dot.heard.filter((query) => query.transport === "tls").length, 3, "only the verified handshakes carried a question (dot, dot_insecure, dot_server_name)");
  });

  it("fails dns_over_tls without transport_protocol tcp as blackbox's configuration error, and ignores tls_config without dns_over_tls", async () => {
    const before = logLines.length;
    assert.equal(sampleValue(await probe("dot_over_udp", dot.server), "probe_success"), 0);
    assert.match(logLines.slice(before).join(""), /dot_over_udp.*dns_over_tls needs transport_protocol tcp/);
    assert.equal(sampleValue(await probe("tcp_ignoring_tls_config", plain.server), "probe_success"), 1);
  });

  it("asks port 853 when the target names no port, as blackbox does for DNS over TLS (53 otherwise)", () => {
    const modules = parseBlackboxModules(`modules:\n${dnsModule("dot", overTls)}`, "f.yml");
    const plan = (module: string, target: string) => {
      const planned = planModule(modules.get(module) ?? STANDARD_MODULES.get(module)!, target);
      return "spec" in planned ? planned.spec.server : planned.unsupported;
    };
    assert.deepEqual([plan("dot", "127.0.0.1"), plan("dot", "[::1]"), plan("dot", "127.0.0.1:8853"), plan("dns_tcp", "127.0.0.1")], ["127.0.0.1:853", "[::1]:853", "127.0.0.1:8853", "127.0.0.1:53"]);
  });
});
