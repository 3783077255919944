/**
 * What `GET /probe` answers when the target's name does not resolve, prober by prober, as
 * blackbox_exporter does (docs/probes.md "Blackbox exporter"): prober/utils.go chooseProtocol registers
 * probe_ip_protocol and probe_ip_addr_hash before resolving, so they read 0, and prober/dns.go its
 * answer gauges before asking. The name has a 64-character label, which the system resolver refuses
 * without sending a query, so the test stays on this host.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { dnsKind } from "../../../prober/kinds/dns-kind.ts";
import { grpcKind } from "../../../prober/kinds/grpc-kind.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../../prober/kinds/tcp-kind.ts";
import { lookup } from "../helpers.ts";
import { startBlackboxApp, type BlackboxApp } from "./blackbox-app.ts";
import { parsePromText, sampleValue } from "./prom-text.ts";

const UNRESOLVABLE = `${"a".repeat(64)}.example`;

describe("GET /probe for a target whose name does not resolve", () => {
  let started: BlackboxApp;
  let app: FastifyInstance;

  before(async () => {
    started = await startBlackboxApp(lookup(httpKind, tcpKind, dnsKind, grpcKind), {});
    app = started.app;
  });

  after(() => started.stop());

  it("answers probe_success 0 with probe_ip_protocol and probe_ip_addr_hash at 0 for every prober, and dns's answer gauges at 0", async () => {
    const metrics = ["probe_success", "probe_ip_protocol", "probe_ip_addr_hash", "probe_dns_query_succeeded", "probe_dns_answer_rrs", "probe_dns_authority_rrs", "probe_dns_additional_rrs"];
    const rows: Array<[string, ...Array<number | undefined>]> = [];
    for (const [module, target] of [["http_2xx", `${UNRESOLVABLE}/health`], ["tcp_connect", `${UNRESOLVABLE}:80`], ["grpc_plain", `${UNRESOLVABLE}:50051`], ["dns_udp", UNRESOLVABLE]] as const) {
      const response = await app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
      assert.equal(response.statusCode, 200, response.body);
      const samples = parsePromText(response.body);
      assert.ok(samples.some((sample) => sample.name === "probe_dns_lookup_time_seconds"), `${module}: ${response.body}`);
      rows.push([module, ...metrics.map((name) => sampleValue(samples, name))]);
    }
    assert.deepEqual(rows, [
      ["http_2xx", 0, 0, 0, undefined, undefined, undefined, undefined],
      ["tcp_connect", 0, 0, 0, undefined, undefined, undefined, undefined],
      ["grpc_plain", 0, 0, 0, undefined, undefined, undefined, undefined],
      ["dns_udp", 0, 0, 0, 0, 0, 0, 0],
    ]);
  });
});
