/**
 * How blackbox_exporter treats a module's tls_config beyond what a probe uses (docs/probes.md "Blackbox
 * exporter"): prometheus/common's TLSConfig.Validate refuses the modules file for a PEM given twice or
 * a certificate without its key, and its `*_ref` keys, read from a secret manager blackbox does not run,
 * fail every probe that builds TLS settings from them ("cannot use secret ref without manager") and
 * nothing else. Servers listen on loopback.
 */
import assert from "node:assert/strict";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { parseBlackboxModules } from "../../../prober/blackbox/module-file.ts";
import { dnsKind } from "../../../prober/kinds/dns-kind.ts";
import { grpcKind } from "../../../prober/kinds/grpc-kind.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../../prober/kinds/tcp-kind.ts";
import { lookup } from "../helpers.ts";
import { startDnsServer, type TestDnsServer } from "../kinds/support/dns-server.ts";
import { listen } from "../kinds/support/servers.ts";
import { startBlackboxApp, type BlackboxApp } from "./blackbox-app.ts";
import { parsePromText, sampleValue } from "./prom-text.ts";

const moduleYaml = (name: string, prober: string, options: Record<string, unknown>) => `  ${name}: ${JSON.stringify({ prober, [prober]: options })}\n`;

describe("blackbox tls_config sources", () => {
  it("refuses a modules file whose tls_config gives a PEM twice or a certificate without its key, in prometheus/common's words", () => {
    const refusal = (prober: string, tls: Record<string, unknown>) => {
      try {
        parseBlackboxModules(`modules:\n${moduleYaml("m", prober, { ...(prober === "dns" ? { query_name: "example.com" } : {}), tls_config: tls })}`, "f.yml");
        return "loaded";
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    };
    assert.deepEqual(
      [
        refusal("tcp", { ca: "-----BEGIN CERTIFICATE-----", ca_ref: "ca" }),
        refusal("http", { ca_file: "ca.pem", ca_ref: "ca" }),
        refusal("grpc", { cert_file: "c.pem", cert_ref: "c", key_file: "k.pem" }),
        refusal("dns", { key_file: "k.pem", key_ref: "k", cert_file: "c.pem" }),
        refusal("http", { cert_ref: "c" }),
        refusal("tcp", { key_ref: "k" }),
        refusal("http", { ca_ref: "ca", cert_ref: "c", key_ref: "k" }),
      ],
      [
        "f.yml: module m: tcp: tls_config: at most one of ca, ca_file & ca_ref must be configured",
        "f.yml: module m: http: tls_config: at most one of ca, ca_file & ca_ref must be configured",
        "f.yml: module m: grpc: tls_config: at most one of cert, cert_file & cert_ref must be configured",
        "f.yml: module m: dns: tls_config: at most one of key and key_file must be configured",
        "f.yml: module m: http: tls_config: exactly one of key or key_file must be configured when a client certificate is configured",
        "f.yml: module m: tcp: tls_config: exactly one of cert or cert_file must be configured when a client key is configured",
        "loaded",
      ],
    );
  });
});

describe("GET /probe with tls_config secret refs", () => {
  let started: BlackboxApp;
  let app: FastifyInstance;
  let logLines: string[] = [];
  let dns: TestDnsServer;
  let tcpTarget = "";
  const heard: string[] = [];
  const tcp = createTcpServer((socket) => {
    heard.push("connected");
    socket.end();
  });
  let closeHttp: () => Promise<void> = async () => undefined;
  let httpOrigin = "";
  const file = join(tmpdir(), `meshsight-blackbox-tls-refs-${process.pid}.yml`);

  const probe = async (module: string, target: string) => {
    const response = await app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
    assert.equal(response.statusCode, 200, response.body);
    return sampleValue(parsePromText(response.body), "probe_success");
  };

  before(async () => {
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    tcpTarget = `127.0.0.1:${(tcp.address() as AddressInfo).port}`;
    dns = await startDnsServer({ "example.com": [{ type: "A", name: "example.com", data: "192.0.2.10" }] });
    const http = await listen((_request, response) => response.end("fine"));
    httpOrigin = http.origin;
    closeHttp = http.close;
    const refs = { ca_ref: "probe-ca" };
    await writeFile(
      file,
      `modules:\n${[
        moduleYaml("http_ca_ref", "http", { tls_config: refs }),
        moduleYaml("grpc_ca_ref", "grpc", { tls_config: refs }),
        moduleYaml("tcp_tls_client_ref", "tcp", { tls: true, tls_config: { cert_ref: "probe-cert", key_ref: "probe-key" } }),
        moduleYaml("tcp_starttls_ca_ref", "tcp", { query_response: [{ starttls: true }], tls_config: refs }),
        moduleYaml("tcp_plain_ca_ref", "tcp", { tls_config: refs }),
        moduleYaml("dns_ca_ref", "dns", { query_name: "example.com", query_type: "A", tls_config: refs }),
        moduleYaml("dot_ca_ref", "dns", { query_name: "example.com", query_type: "A", transport_protocol: "tcp", dns_over_tls: true, tls_config: refs }),
      ].join("")}`,
    );
    started = await startBlackboxApp(lookup(httpKind, tcpKind, dnsKind, grpcKind), { blackboxConfigFile: file });
    app = started.app;
    logLines = started.logLines;
  });

  after(async () => {
    await started.stop();
    await dns.close();
    await closeHttp();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await rm(file, { force: true });
  });

  it("loads the file and fails the probes that build TLS settings with blackbox's error, leaving the others to run", async () => {
    const rows: Array<[string, number | undefined]> = [];
    for (const [module, target] of [["http_ca_ref", `${httpOrigin}/`], ["grpc_ca_ref", tcpTarget], ["tcp_tls_client_ref", tcpTarget], ["tcp_starttls_ca_ref", tcpTarget], ["dot_ca_ref", dns.server], ["tcp_plain_ca_ref", tcpTarget], ["dns_ca_ref", dns.server]] as const) {
      rows.push([module, await probe(module, target)]);
    }
    assert.deepEqual(rows, [
      ["http_ca_ref", 0],
      ["grpc_ca_ref", 0],
      ["tcp_tls_client_ref", 0],
      ["tcp_starttls_ca_ref", 0],
      ["dot_ca_ref", 0],
      // Without tls, starttls or dns_over_tls blackbox never reads tls_config.
      ["tcp_plain_ca_ref", 1],
      ["dns_ca_ref", 1],
    ]);
    assert.deepEqual(heard, ["connected"], "only tcp_plain_ca_ref reached the tcp server");
    const logged = (module: string, text: string) => logLines.some((line) => line.includes(`"module":"${module}"`) && line.includes(text));
    for (const module of ["http_ca_ref", "grpc_ca_ref", "tcp_starttls_ca_ref", "dot_ca_ref"]) assert.ok(logged(module, "tls_config: unable to use CA cert: cannot use secret ref without manager"), `${module}: ${logLines.join("")}`);
    assert.ok(logged("tcp_tls_client_ref", "tls_config: unable to use client cert: cannot use secret ref without manager"), logLines.join(""));
  });
});
