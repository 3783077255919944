/**
 * blackbox_exporter compatibility of `GET /probe` (docs/probes.md "Blackbox exporter"): its shipped
 * blackbox.yml loaded unchanged from test/fixtures/blackbox, its module names without a file, its
 * target forms and answers (200 with probe_success 0 on failure, 400 only for an unknown module or an
 * unusable target). Every server here listens on loopback, which the harness's egress policy allows.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createServer as createTlsServer, TLSSocket } from "node:tls";
import { createInterface } from "node:readline";
import { ServerCredentials } from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import { parseBlackboxModules, STANDARD_MODULES } from "../../../prober/blackbox/module-file.ts";
import { dnsKind } from "../../../prober/kinds/dns-kind.ts";
import { grpcKind } from "../../../prober/kinds/grpc-kind.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../../prober/kinds/tcp-kind.ts";
import { lookup } from "../helpers.ts";
import { startBlackboxApp, type BlackboxApp } from "./blackbox-app.ts";
import { generateCertificates, type TestCertificate } from "../kinds/support/certificates.ts";
import { listen } from "../kinds/support/servers.ts";
import { startDnsServer, type TestDnsServer } from "../kinds/support/dns-server.ts";
import { startHealthServer } from "../kinds/support/grpc-health-server.ts";
import { parsePromText, sampleValue } from "./prom-text.ts";

const FIXTURE = join(import.meta.dirname, "../../fixtures/blackbox/blackbox.yml");

/**
 * A server that says `banner` and closes; it reads (and drops) what the prober sends, so it sees the
 * prober's close, and the prober may reset the connection first, which is no error here.
 */
function bannerServer(banner: string): TcpServer {
  return createTcpServer((socket) => {
    socket.on("error", () => undefined);
    socket.resume();
    socket.end(banner);
  });
}

async function listenTcp(server: TcpServer): Promise<{ target: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { target: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Modules in the shape of blackbox's example.yml, written as JSON (which YAML reads) so "\\t" stays a tab. */
const jsonModule = (prober: string) => (name: string, options: Record<string, unknown>) => `  ${name}: ${JSON.stringify({ prober, [prober]: options })}\n`;
const dnsModule = jsonModule("dns");
const httpModule = jsonModule("http");
const tcpModule = jsonModule("tcp");
const expectOk = [{ expect: "^\\+OK" }];
/** tls_config with files: paths inside prober.filesDir, which the test fills with the certificates. */
const TLS_MODULES = [
  tcpModule("tcp_ca_file", { tls: true, tls_config: { ca_file: "ca.pem" }, query_response: expectOk }),
  tcpModule("tcp_ca_outside", { tls: true, tls_config: { ca_file: "../outside.pem" }, query_response: expectOk }),
  tcpModule("tcp_client_cert", { tls: true, tls_config: { insecure_skip_verify: true, cert_file: "client.crt", key_file: "client.key" }, query_response: [{ expect: "^\\+OK mtls" }] }),
  tcpModule("tcp_no_client_cert", { tls: true, tls_config: { insecure_skip_verify: true }, query_response: [{ expect: "^\\+OK mtls" }] }),
  tcpModule("tcp_max_tls12", { tls: true, tls_config: { insecure_skip_verify: true, max_version: "TLS12" }, query_response: expectOk }),
  tcpModule("tcp_min_tls13", { tls: true, tls_config: { insecure_skip_verify: true, min_version: "TLS13" } }),
  httpModule("http_ca_file", { tls_config: { ca_file: "ca.pem" } }),
  httpModule("http_client_cert", { tls_config: { ca_file: "ca.pem", cert_file: "client.crt", key_file: "client.key" } }),
  jsonModule("grpc")("grpc_ca_file", { tls: true, tls_config: { ca_file: "ca.pem" } }),
  jsonModule("grpc")("grpc_metadata", { metadata: { Authorization: ["Bearer t0ken"], "x-tenant": ["a", "b"], "trace-bin": ["\u0001\u0002"] } }),
  jsonModule("grpc")("grpc_metadata_not_ascii", { metadata: { "x-tenant": ["caf\u00e9"] } }),
].join("");
/** source_ip_address: loopback's second address, an address of no interface here, and no address at all. */
const SOURCE_MODULES = [
  tcpModule("tcp_from_127_0_0_2", { source_ip_address: "127.0.0.2" }),
  tcpModule("tcp_tls_from_127_0_0_2", { tls: true, source_ip_address: "127.0.0.2", tls_config: { insecure_skip_verify: true }, query_response: expectOk }),
  tcpModule("tcp_from_elsewhere", { source_ip_address: "192.0.2.1" }),
  tcpModule("tcp_from_nowhere", { source_ip_address: "not-an-ip" }),
].join("");
/** tls_config with inline PEM (`ca`, `cert`, `key`), in the same checks as the file forms above. */
const inlineTlsModules = (caPem: string, client: TestCertificate) =>
  [
    tcpModule("tcp_ca_inline", { tls: true, tls_config: { ca: caPem }, query_response: expectOk }),
    tcpModule("tcp_client_cert_inline", { tls: true, tls_config: { insecure_skip_verify: true, cert: client.certPem, key: client.keyPem }, query_response: [{ expect: "^\\+OK mtls" }] }),
    httpModule("http_client_cert_inline", { tls_config: { ca: caPem, cert: client.certPem, key: client.keyPem } }),
    jsonModule("grpc")("grpc_ca_inline", { tls: true, tls_config: { ca: caPem } }),
  ].join("");
/** blackbox.yml's postgresql module with the self-signed test certificate accepted; !!binary needs YAML, not JSON. */
const POSTGRES_MODULE = `  postgresql_insecure:
    prober: tcp
    tcp:
      query_response:
      - send: !!binary AAAACATSFi8=
      - expect_bytes: S
      - starttls: true
      tls_config:
        insecure_skip_verify: true
`;
const HTTP_MODULES = [
  httpModule("http_body_forbidden", { fail_if_body_matches_regexp: ["error", "fi.e"] }),
  httpModule("http_body_forbidden_absent", { fail_if_body_matches_regexp: ["error"] }),
  httpModule("http_body_all", { fail_if_body_not_matches_regexp: ["^fi", "ne$"] }),
  httpModule("http_body_all_fail", { fail_if_body_not_matches_regexp: ["^fi", "^ne"] }),
  httpModule("http_header_matches", { fail_if_header_matches: [{ header: "X-Version", regexp: "^2\\." }] }),
  httpModule("http_header_missing_allowed", { fail_if_header_matches: [{ header: "X-Missing", regexp: ".", allow_missing: true }] }),
  httpModule("http_header_missing", { fail_if_header_matches: [{ header: "X-Missing", regexp: "." }] }),
  httpModule("http_header_not_matches", { fail_if_header_not_matches: [{ header: "x-version", regexp: "^1\\.2$" }] }),
  httpModule("http_header_not_matches_fail", { fail_if_header_not_matches: [{ header: "X-Version", regexp: "^3" }] }),
  httpModule("http_missing_not_matches_allowed", { fail_if_header_not_matches: [{ header: "X-Missing", regexp: "^3", allow_missing: true }] }),
  httpModule("http_fail_if_ssl", { fail_if_ssl: true, tls_config: { insecure_skip_verify: true } }),
  httpModule("http_fail_if_not_ssl", { fail_if_not_ssl: true, tls_config: { insecure_skip_verify: true } }),
].join("");
const prometheusA = { query_name: "www.prometheus.io", query_type: "A" };
const DNS_MODULES = [
  dnsModule("dns_over_tls", { query_name: "example.com", dns_over_tls: true }),
  dnsModule("dns_soa", { query_name: "prometheus.io", query_type: "SOA" }),
  dnsModule("dns_from_127_0_0_2", { query_name: "example.com", query_type: "A", source_ip_address: "127.0.0.2" }),
  dnsModule("dns_tcp_from_127_0_0_2", { query_name: "example.com", query_type: "A", transport_protocol: "tcp", source_ip_address: "127.0.0.2" }),
  dnsModule("dns_from_elsewhere", { query_name: "example.com", query_type: "A", source_ip_address: "192.0.2.1" }),
  dnsModule("dns_any", { query_name: "www.prometheus.io", recursion_desired: false, query_class: "CH" }),
  dnsModule("dns_servfail_ok", { query_name: "broken.example", valid_rcodes: ["NOERROR", "SERVFAIL"] }),
  dnsModule("dns_nxdomain_ok", { query_name: "nowhere.example.org", valid_rcodes: ["NXDOMAIN"] }),
  dnsModule("dns_bad_rcode_name", { query_name: "www.prometheus.io", valid_rcodes: ["NOSUCHRCODE"] }),
  dnsModule("dns_matches_pass", { ...prometheusA, validate_answer_rrs: { fail_if_matches_regexp: [".*127.0.0.1"] } }),
  dnsModule("dns_matches_fail", { ...prometheusA, validate_answer_rrs: { fail_if_matches_regexp: [".*192.0.2.12"] } }),
  dnsModule("dns_all_match_pass", { ...prometheusA, validate_answer_rrs: { fail_if_all_match_regexp: ["192\\.0\\.2\\.1[12]$"] } }),
  dnsModule("dns_all_match_fail", { ...prometheusA, validate_answer_rrs: { fail_if_all_match_regexp: ["192\\.0\\.2\\.11$"] } }),
  dnsModule("dns_not_matches_pass", { ...prometheusA, validate_answer_rrs: { fail_if_not_matches_regexp: ["^www\\.prometheus\\.io\\.\t300\tIN\tA\t192\\.0\\.2\\.1[12]$"] } }),
  dnsModule("dns_not_matches_fail", { ...prometheusA, validate_answer_rrs: { fail_if_not_matches_regexp: ["www.prometheus.io.\t300\tIN\tA\t192.0.2.11"] } }),
  dnsModule("dns_none_matches_pass", { ...prometheusA, validate_answer_rrs: { fail_if_none_matches_regexp: ["192.0.2.12"] } }),
  dnsModule("dns_none_matches_fail", { ...prometheusA, validate_answer_rrs: { fail_if_none_matches_regexp: ["192.0.2.99"] } }),
  dnsModule("dns_authority_fail", { ...prometheusA, validate_authority_rrs: { fail_if_matches_regexp: ["IN\tNS\tns1\\.prometheus\\.io\\.$"] } }),
  dnsModule("dns_additional_pass", { ...prometheusA, validate_additional_rrs: { fail_if_none_matches_regexp: ["^ns1\\.prometheus\\.io\\.\t3600\tIN\tA\t192\\.0\\.2\\.53$"] } }),
  dnsModule("dns_tcp_validated", { ...prometheusA, transport_protocol: "tcp", validate_answer_rrs: { fail_if_none_matches_regexp: ["192.0.2.11"] } }),
  dnsModule("dns_empty_must_match", { query_name: "example.com", query_type: "AAAA", validate_answer_rrs: { fail_if_not_matches_regexp: ["."] } }),
  dnsModule("dns_empty_must_have_one", { query_name: "example.com", query_type: "AAAA", validate_answer_rrs: { fail_if_none_matches_regexp: ["."] } }),
  dnsModule("dns_empty_matches_nothing", { query_name: "example.com", query_type: "AAAA", validate_answer_rrs: { fail_if_matches_regexp: ["."], fail_if_all_match_regexp: ["x"] } }),
].join("");

describe("blackbox modules file", () => {
  it("reads blackbox_exporter's shipped blackbox.yml unchanged, and the built-in standard modules are its modules", async () => {
    const modules = parseBlackboxModules(await readFile(FIXTURE, "utf8"), FIXTURE);
    assert.equal(modules.size, 14);
    for (const [name, module] of modules) assert.deepEqual(STANDARD_MODULES.get(name), module, name);
    assert.deepEqual([...STANDARD_MODULES.keys()].filter((name) => !modules.has(name)), ["dns_udp", "dns_tcp"]);
    assert.equal(modules.get("ssh_banner_extract")?.timeoutMs, 5_000);
    const postgres = modules.get("postgresql")?.options.query_response;
    assert.ok(Array.isArray(postgres));
    assert.deepEqual([...(postgres[0] as { send: Uint8Array }).send], [0, 0, 0, 8, 4, 210, 22, 47], "!!binary is read as bytes");
  });

  it("names the module and the problem in a file that is not a modules file", () => {
    assert.throws(() => parseBlackboxModules("modules:\n  broken: { timeout: 5s }\n", "f.yml"), /f\.yml: module broken: expected a mapping with "prober:"/);
    assert.throws(() => parseBlackboxModules("modules:\n  slow: { prober: tcp, timeout: soon }\n", "f.yml"), /module slow: timeout: expected a duration/);
    assert.throws(() => parseBlackboxModules("probes: []\n", "f.yml"), /expected a "modules:" mapping/);
  });
});

describe("GET /probe with blackbox modules", () => {
  const requests: Array<{ method: string; url: string }> = [];
  let logLines: string[] = [];
  const sent: Array<{ header: string; body: string }> = [];
  const http = createHttpServer((request: IncomingMessage, response) => {
    requests.push({ method: request.method ?? "", url: request.url ?? "" });
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      sent.push({ header: String(request.headers["x-probe"] ?? ""), body: Buffer.concat(chunks).toString("utf8") });
      if (request.url === "/moved") response.setHeader("location", "/ok");
      response.statusCode = request.url === "/down" ? 503 : request.url === "/moved" ? 302 : 200;
      response.setHeader("content-length", 4);
      // Sent as two header lines: blackbox matches each value of a header on its own.
      response.setHeader("x-version", ["1.2", "2.0"]);
      response.end("fine");
    });
  });
  let httpTarget = "";
  let started: BlackboxApp;
  let app: FastifyInstance;
  const closers: Array<() => Promise<void>> = [];
  let ssh = "";
  let notSsh = "";
  let dns = "";
  let httpsOrigin = "";
  let mtlsTarget = "";
  let mtlsHttpsOrigin = "";
  let tls12Target = "";
  let grpcTls = "";
  let filesDir = "";
  let postgresTarget = "";
  let postgresWithoutTls = "";
  const postgresHeard: string[] = [];
  let certificate: TestCertificate;
  let dnsServer: TestDnsServer;
  let grpc = "";
  let pop3s = "";
  let irc = "";
  let smtp = "";
  const ircHeard: string[] = [];
  const grpcHeard: Array<Record<string, unknown>> = [];

  const probe = async (module: string, target: string) => {
    const response = await app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
    return { status: response.statusCode, body: response.body, samples: response.statusCode === 200 ? parsePromText(response.body) : [] };
  };

  /** Probes each row's module at its target and reads `metrics`, so a whole table of expectations is compared at once. */
  const probeTable = async (rows: ReadonlyArray<readonly [string, string, ...number[]]>, metrics: readonly string[]) => {
    const results: Array<[string, string, ...Array<number | undefined>]> = [];
    for (const [module, target] of rows) {
      const { samples } = await probe(module, target);
      results.push([module, target, ...metrics.map((name) => sampleValue(samples, name))]);
    }
    return results;
  };

  before(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpTarget = `127.0.0.1:${(http.address() as AddressInfo).port}`;
    closers.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const sshServer = await listenTcp(bannerServer("SSH-2.0-OpenSSH_9.6 Ubuntu\r\n"));
    const otherServer = await listenTcp(bannerServer("220 smtp ready\r\n"));
    ssh = sshServer.target;
    notSsh = otherServer.target;
    dnsServer = await startDnsServer({
      "example.com": [{ type: "A", name: "example.com", data: "192.0.2.10" }],
      "www.prometheus.io": {
        answers: [
          { type: "A", name: "www.prometheus.io", ttl: 300, data: "192.0.2.11" },
          { type: "A", name: "www.prometheus.io", ttl: 300, data: "192.0.2.12" },
          { type: "TXT", name: "www.prometheus.io", ttl: 300, data: ["site"] },
        ],
        authorities: [{ type: "NS", name: "prometheus.io", ttl: 3600, data: "ns1.prometheus.io" }],
        additionals: [{ type: "A", name: "ns1.prometheus.io", ttl: 3600, data: "192.0.2.53" }],
      },
      "prometheus.io": [{ type: "SOA", name: "prometheus.io", ttl: 3600, data: { mname: "ns1.prometheus.io", rname: "hostmaster.prometheus.io", serial: 2026120701, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 } }],
      "broken.example": { rcode: 2 },
    });
    dns = dnsServer.server;
    const health = await startHealthServer(new Map([["service1", "SERVING"], ["", "SERVING"]]), ServerCredentials.createInsecure(), grpcHeard);
    grpc = health.target;
    certificate = generateCertificates(30).valid;
    const tlsServer = await listenTcp(createTlsServer({ key: certificate.keyPem, cert: certificate.certPem }, (socket) => {
      socket.on("error", () => undefined);
      socket.end("+OK POP3 ready\r\n");
    }));
    pop3s = tlsServer.target;
    const https = await listen((_request, response) => response.end("fine"), certificate);
    httpsOrigin = https.origin;
    closers.push(https.close);
    // Servers that want the client certificate the tcp_client_cert and http_client_cert modules present.
    const clientCertificate = generateCertificates(30).otherName;
    const mtls = { key: certificate.keyPem, cert: certificate.certPem, requestCert: true, rejectUnauthorized: true, ca: [clientCertificate.certPem] };
    const mtlsServer = await listenTcp(createTlsServer(mtls, (socket) => {
      socket.on("error", () => undefined);
      socket.end("+OK mtls\r\n");
    }));
    mtlsTarget = mtlsServer.target;
    const mtlsHttps = createHttpsServer(mtls, (_request, response) => response.end("fine"));
    await new Promise<void>((resolve) => mtlsHttps.listen(0, "127.0.0.1", resolve));
    mtlsHttpsOrigin = `https://127.0.0.1:${(mtlsHttps.address() as AddressInfo).port}/`;
    const tls12Server = await listenTcp(createTlsServer({ key: certificate.keyPem, cert: certificate.certPem, maxVersion: "TLSv1.2" }, (socket) => {
      socket.on("error", () => undefined);
      socket.end("+OK\r\n");
    }));
    tls12Target = tls12Server.target;
    // PostgreSQL's SSLRequest as blackbox.yml's postgresql module sends it: eight bytes (and blackbox's newline),
    // answered "S" and followed by a TLS handshake, or "N" from a server without TLS.
    const postgres = (reply: "S" | "N") => listenTcp(createTcpServer((socket) => {
      socket.on("error", () => undefined);
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 9) return;
        socket.removeListener("data", onData);
        postgresHeard.push(received.toString("hex"));
        socket.write(reply, () => {
          if (reply === "N") return socket.end();
          const secure = new TLSSocket(socket, { isServer: true, key: certificate.keyPem, cert: certificate.certPem });
          secure.on("error", () => undefined);
        });
      };
      socket.on("data", onData);
    }));
    const postgresTls = await postgres("S");
    const postgresPlain = await postgres("N");
    postgresTarget = postgresTls.target;
    postgresWithoutTls = postgresPlain.target;
    closers.push(postgresTls.close, postgresPlain.close);
    const tlsHealth = await startHealthServer(new Map([["", "SERVING"]]), ServerCredentials.createSsl(null, [{ private_key: Buffer.from(certificate.keyPem), cert_chain: Buffer.from(certificate.certPem) }]));
    grpcTls = tlsHealth.target;
    closers.push(mtlsServer.close, tls12Server.close, async () => tlsHealth.close(), () => new Promise<void>((resolve) => {
      mtlsHttps.closeAllConnections();
      mtlsHttps.close(() => resolve());
    }));
    filesDir = await mkdtemp(join(tmpdir(), "meshsight-blackbox-files-"));
    await mkdir(join(filesDir, "probe-files"));
    await writeFile(join(filesDir, "outside.pem"), certificate.certPem);
    await writeFile(join(filesDir, "probe-files", "ca.pem"), certificate.certPem);
    await writeFile(join(filesDir, "probe-files", "client.crt"), clientCertificate.certPem);
    await writeFile(join(filesDir, "probe-files", "client.key"), clientCertificate.keyPem);
    closers.push(() => rm(filesDir, { recursive: true, force: true }));
    // An IRC server as irc_banner expects one: it pings after NICK and USER and welcomes after the right PONG.
    const ircServer = await listenTcp(createTcpServer((socket) => {
      socket.on("error", () => undefined);
      createInterface({ input: socket }).on("line", (line) => {
        ircHeard.push(line);
        if (line.startsWith("USER ")) socket.write("PING :token-42\r\n");
        if (line === "PONG token-42") socket.end(":irc.local 001 prober :Welcome\r\n");
      });
    }));
    irc = ircServer.target;
    // STARTTLS as SMTP does it: a plain greeting, then TLS after the client asks for it.
    const smtpServer = await listenTcp(createTcpServer((socket) => {
      socket.on("error", () => undefined);
      socket.write("220 smtp.local ready\r\n");
      socket.once("data", () => {
        socket.write("220 go ahead\r\n", () => {
          const secure = new TLSSocket(socket, { isServer: true, key: certificate.keyPem, cert: certificate.certPem });
          secure.on("error", () => undefined);
          secure.on("secure", () => secure.end("+OK secured\r\n"));
        });
      });
    }));
    smtp = smtpServer.target;
    closers.push(sshServer.close, otherServer.close, dnsServer.close, tlsServer.close, ircServer.close, smtpServer.close, async () => health.close());
    const file = join(await import("node:os").then((os) => os.tmpdir()), `meshsight-blackbox-${process.pid}.yml`);
    const fixture = await readFile(FIXTURE, "utf8");
    // The shipped file unchanged, then modules of blackbox's example.yml shape (prober/dns.go's options).
    await writeFile(file, `${fixture}\n  dns_prometheus:\n    prober: dns\n    dns:\n      query_name: "www.prometheus.io"\n      query_type: "A"\n      valid_rcodes: [NOERROR]\n  dns_missing:\n    prober: dns\n    dns:\n      query_name: "nowhere.example.org"\n      query_type: "A"\n  pop3s_self_signed:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: "^\\\\+OK"\n      tls: true\n      tls_config:\n        insecure_skip_verify: true\n  pop3s_verified:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: "^\\\\+OK"\n      tls: true\n  smtp_starttls:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: "^220 smtp"\n      - send: "STARTTLS"\n      - expect: "^220 go"\n      - starttls: true\n      - expect: "^\\\\+OK secured"\n      tls_config:\n        insecure_skip_verify: true\n  http_put_redirect:\n    prober: http\n    http:\n      method: PUT\n      headers:\n        X-Probe: blackbox\n      body: "hello"\n      valid_status_codes: [302]\n      no_follow_redirects: true\n  http_body:\n    prober: http\n    http:\n      valid_status_codes: [200]\n      fail_if_body_not_matches_regexp: ["^ok$"]\n${DNS_MODULES}${HTTP_MODULES}${TLS_MODULES}${inlineTlsModules(certificate.certPem, clientCertificate)}${SOURCE_MODULES}${POSTGRES_MODULE}`);
    started = await startBlackboxApp(lookup(httpKind, tcpKind, dnsKind, grpcKind), { blackboxConfigFile: file, filesDir: join(filesDir, "probe-files") });
    app = started.app;
    logLines = started.logLines;
  });

  after(async () => {
    await started.stop();
    for (const close of closers) await close();
  });

  it("gives a bare host:port/path target http:// and answers a failed probe with 200 and probe_success 0", async () => {
    const ok = await probe("http_2xx", `${httpTarget}/ok`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(sampleValue(ok.samples, "probe_success"), 1, ok.body);
    assert.deepEqual(requests.at(-1), { method: "GET", url: "/ok" });
    const post = await probe("http_post_2xx", `http://${httpTarget}/ok`);
    assert.equal(sampleValue(post.samples, "probe_success"), 1, post.body);
    assert.deepEqual(requests.at(-1), { method: "POST", url: "/ok" });
    const down = await probe("http_2xx", `${httpTarget}/down`);
    assert.equal(down.status, 200);
    assert.equal(sampleValue(down.samples, "probe_success"), 0);
    assert.equal(sampleValue(down.samples, "probe_http_status_code"), 503);
  });

  it("sends the module's method, headers and body, and keeps valid_status_codes and no_follow_redirects", async () => {
    const moved = await probe("http_put_redirect", `${httpTarget}/moved`);
    assert.equal(sampleValue(moved.samples, "probe_success"), 1, moved.body);
    assert.equal(sampleValue(moved.samples, "probe_http_status_code"), 302);
    assert.deepEqual(requests.at(-1), { method: "PUT", url: "/moved" });
    assert.deepEqual(sent.at(-1), { header: "blackbox", body: "hello" });
    const notRedirected = await probe("http_put_redirect", `${httpTarget}/ok`);
    assert.equal(sampleValue(notRedirected.samples, "probe_success"), 0, "200 is not in valid_status_codes [302]");
  });

  it("answers 400 only for an unknown module or an unusable target", async () => {
    assert.equal((await probe("no_such_module", httpTarget)).status, 400);
    assert.equal((await probe("tcp_connect", "no-port-here")).status, 400);
    assert.equal((await probe("http_2xx", "ftp://127.0.0.1/file")).status, 400);
    assert.equal((await probe("grpc_plain", "127.0.0.1")).status, 400);
  });

  it("runs tcp modules: tcp_connect, and ssh_banner's expect against a banner", async () => {
    const connect = await probe("tcp_connect", ssh);
    assert.equal(sampleValue(connect.samples, "probe_success"), 1);
    assert.equal(sampleValue(connect.samples, "probe_ip_protocol"), 4);
    assert.equal(sampleValue((await probe("ssh_banner", ssh)).samples, "probe_success"), 1);
    const wrongBanner = await probe("ssh_banner", notSsh);
    assert.equal(wrongBanner.status, 200);
    assert.equal(sampleValue(wrongBanner.samples, "probe_success"), 0);
  });

  it("exports probe_ip_addr_hash for every prober as blackbox does, and tcp_connect's probe_failed_due_to_regex and _bytes at 0", async () => {
    // FNV-1a 32 of the address bytes, computed outside the code under test (Python: fnv1a(ipaddress.ip_address(a).packed)).
    const HASH_127_0_0_1 = 3668918509;
    const HASH_127_0_0_2 = 3618585652;
    const second = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => second.listen(0, "127.0.0.2", resolve));
    const secondTarget = `127.0.0.2:${(second.address() as AddressInfo).port}`;
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedTarget = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
      const metrics = ["probe_success", "probe_ip_protocol", "probe_ip_addr_hash", "probe_failed_due_to_regex", "probe_failed_due_to_bytes"];
      const expectations: Array<[string, string, ...Array<number | undefined>]> = [
        ["tcp_connect", ssh, 1, 4, HASH_127_0_0_1, 0, 0],
        ["tcp_connect", secondTarget, 1, 4, HASH_127_0_0_2, 0, 0],
        // No connection: blackbox registers the address gauges before dialing, the dialogue's only after.
        ["tcp_connect", closedTarget, 0, 4, HASH_127_0_0_1, undefined, undefined],
        ["http_2xx", `${httpTarget}/ok`, 1, 4, HASH_127_0_0_1, 0, undefined],
        ["grpc_plain", grpc, 1, 4, HASH_127_0_0_1, undefined, undefined],
        ["dns_udp", dns, 1, 4, HASH_127_0_0_1, undefined, undefined],
      ];
      const results: Array<[string, string, ...Array<number | undefined>]> = [];
      for (const [module, target] of expectations) {
        const { samples } = await probe(module, target);
        results.push([module, target, ...metrics.map((name) => sampleValue(samples, name))]);
      }
      assert.deepEqual(results, expectations);
    } finally {
      await new Promise<void>((resolve) => second.close(() => resolve()));
    }
  });

  it("connects tcp modules from source_ip_address (the server sees it), failing the probe for an address not on this host or not an address", async () => {
    const seen: string[] = [];
    const server = await listenTcp(createTcpServer((socket) => {
      seen.push(socket.remoteAddress ?? "");
      socket.end();
    }));
    try {
      assert.equal(sampleValue((await probe("tcp_connect", server.target)).samples, "probe_success"), 1);
      assert.equal(sampleValue((await probe("tcp_from_127_0_0_2", server.target)).samples, "probe_success"), 1);
      assert.deepEqual(seen, ["127.0.0.1", "127.0.0.2"]);
      assert.equal(sampleValue((await probe("tcp_from_elsewhere", server.target)).samples, "probe_success"), 0);
      assert.equal(sampleValue((await probe("tcp_from_nowhere", server.target)).samples, "probe_success"), 0);
      assert.deepEqual(seen, ["127.0.0.1", "127.0.0.2"], "neither failing module reached the server");
      assert.ok(logLines.some((line) => line.includes("tcp_from_nowhere") && line.includes("sourceIpAddress: expected an IP address")), logLines.join(""));
    } finally {
      await server.close();
    }
    const seenOverTls: string[] = [];
    const tlsServer = await listenTcp(createTlsServer({ key: certificate.keyPem, cert: certificate.certPem }, (socket) => {
      seenOverTls.push(socket.remoteAddress ?? "");
      socket.on("error", () => undefined);
      socket.end("+OK\r\n");
    }));
    try {
      assert.equal(sampleValue((await probe("tcp_tls_from_127_0_0_2", tlsServer.target)).samples, "probe_success"), 1);
      assert.deepEqual(seenOverTls, ["127.0.0.2"]);
    } finally {
      await tlsServer.close();
    }
  });

  it("asks dns modules' server from source_ip_address over udp and tcp (the server sees it), failing for an address not on this host", async () => {
    const rows: Array<[string, number | undefined, string | undefined]> = [];
    for (const module of ["dns_udp", "dns_from_127_0_0_2", "dns_tcp_from_127_0_0_2", "dns_from_elsewhere"]) {
      const before = dnsServer.sources.length;
      const success = sampleValue((await probe(module, dns)).samples, "probe_success");
      rows.push([module, success, dnsServer.sources.length > before ? dnsServer.sources.at(-1) : undefined]);
    }
    assert.deepEqual(rows, [
      ["dns_udp", 1, "127.0.0.1"],
      ["dns_from_127_0_0_2", 1, "127.0.0.2"],
      ["dns_tcp_from_127_0_0_2", 1, "127.0.0.2"],
      ["dns_from_elsewhere", 0, undefined],
    ]);
  });

  it("runs a query_response dialogue: irc_banner's sends, the PONG with the PING's group, and STARTTLS", async () => {
    const chat = await probe("irc_banner", irc);
    assert.equal(sampleValue(chat.samples, "probe_success"), 1, chat.body);
    assert.deepEqual(ircHeard, ["NICK prober", "USER prober prober prober :prober", "PONG token-42"]);
    const starttls = await probe("smtp_starttls", smtp);
    assert.equal(sampleValue(starttls.samples, "probe_success"), 1, starttls.body);
    assert.equal(sampleValue(starttls.samples, "probe_tls_version_info", { version: "TLS 1.3" }), 1);
    const noGreeting = await probe("smtp_starttls", ssh);
    assert.equal(sampleValue(noGreeting.samples, "probe_success"), 0);
  });

  it("asks the target as the DNS server about the module's query_name", async () => {
    const found = await probe("dns_prometheus", dns);
    assert.equal(sampleValue(found.samples, "probe_success"), 1);
    assert.equal(sampleValue(found.samples, "probe_dns_answer_rrs"), 2);
    assert.equal(sampleValue(found.samples, "probe_dns_query_succeeded"), 1);
    assert.equal(sampleValue((await probe("dns_udp", dns)).samples, "probe_success"), 1, "the standard dns_udp module asks for example.com");
    const missing = await probe("dns_missing", dns);
    assert.equal(missing.status, 200);
    assert.equal(sampleValue(missing.samples, "probe_success"), 0, "NXDOMAIN is not a valid rcode");
    assert.equal(sampleValue(missing.samples, "probe_dns_query_succeeded"), 1, "the server answered, with NXDOMAIN");
    assert.equal(sampleValue(missing.samples, "probe_dns_answer_rrs"), 0);
  });

  it("asks over tcp for transport_protocol tcp (dns_tcp), with blackbox's dns metrics and phases", async () => {
    const before = dnsServer.heard.length;
    const overTcp = await probe("dns_tcp", dns);
    assert.equal(sampleValue(overTcp.samples, "probe_success"), 1, overTcp.body);
    assert.deepEqual(dnsServer.heard.slice(before), [{ transport: "tcp", name: "example.com", type: "A", class: "IN", isRecursionDesired: true }]);
    const validated = await probe("dns_tcp_validated", dns);
    assert.equal(sampleValue(validated.samples, "probe_success"), 1, validated.body);
    assert.equal(dnsServer.heard.at(-1)?.transport, "tcp");
    const found = await probe("dns_prometheus", dns);
    assert.equal(dnsServer.heard.at(-1)?.transport, "udp");
    for (const [name, value] of [["probe_dns_answer_rrs", 2], ["probe_dns_authority_rrs", 1], ["probe_dns_additional_rrs", 1], ["probe_dns_query_succeeded", 1], ["probe_ip_protocol", 4]] as const) {
      assert.equal(sampleValue(found.samples, name), value, name);
    }
    for (const phase of ["resolve", "connect", "request"]) assert.ok((sampleValue(found.samples, "probe_dns_duration_seconds", { phase }) ?? -1) >= 0, phase);
    assert.ok((sampleValue(found.samples, "probe_dns_lookup_time_seconds") ?? -1) >= 0);
  });

  it("asks for ANY by default, honours recursion_desired, and gives the SOA serial as probe_dns_serial", async () => {
    const any = await probe("dns_any", dns);
    assert.equal(sampleValue(any.samples, "probe_success"), 1, any.body);
    assert.equal(sampleValue(any.samples, "probe_dns_answer_rrs"), 3, "two A records and a TXT record");
    assert.deepEqual(dnsServer.heard.at(-1), { transport: "udp", name: "www.prometheus.io", type: "ANY", class: "CH", isRecursionDesired: false });
    const soa = await probe("dns_soa", dns);
    assert.equal(sampleValue(soa.samples, "probe_success"), 1, soa.body);
    assert.equal(sampleValue(soa.samples, "probe_dns_serial"), 2026120701);
  });

  it("passes the rcodes listed in valid_rcodes, fails the others, and logs an rcode it does not know", async () => {
    assert.equal(sampleValue((await probe("dns_servfail_ok", dns)).samples, "probe_success"), 1);
    assert.equal(sampleValue((await probe("dns_nxdomain_ok", dns)).samples, "probe_success"), 1);
    assert.equal(sampleValue((await probe("dns_prometheus", dns)).samples, "probe_success"), 1);
    const before = logLines.length;
    const unknown = await probe("dns_bad_rcode_name", dns);
    assert.equal(unknown.status, 200);
    assert.equal(sampleValue(unknown.samples, "probe_success"), 0);
    assert.match(logLines.at(before) ?? "", /validRcodes\.0: expected rcodes among NOERROR/);
  });

  it("validates answer, authority and additional records against their presentation form, as prober/dns.go does", async () => {
    const expectations: Array<[module: string, success: number]> = [
      ["dns_matches_pass", 1],
      ["dns_matches_fail", 0],
      // Blackbox fails fail_if_all_match_regexp when NOT every record matches (prober/dns.go validRRs).
      ["dns_all_match_pass", 1],
      ["dns_all_match_fail", 0],
      ["dns_not_matches_pass", 1],
      ["dns_not_matches_fail", 0],
      ["dns_none_matches_pass", 1],
      ["dns_none_matches_fail", 0],
      ["dns_authority_fail", 0],
      ["dns_additional_pass", 1],
      ["dns_empty_must_match", 0],
      ["dns_empty_must_have_one", 0],
      ["dns_empty_matches_nothing", 1],
    ];
    const results: Array<[string, number | undefined]> = [];
    for (const [module] of expectations) results.push([module, sampleValue((await probe(module, dns)).samples, "probe_success")]);
    assert.deepEqual(results, expectations);
  });

  it("sends a grpc module's metadata with the health check (every value of a key, -bin keys as bytes)", async () => {
    assert.equal(sampleValue((await probe("grpc_metadata", grpc)).samples, "probe_success"), 1);
    const heard = grpcHeard.at(-1)!;
    assert.equal(heard.authorization, "Bearer t0ken");
    assert.equal(heard["x-tenant"], "a, b", "grpc-js joins a key's values in order");
    assert.deepEqual([...(heard["trace-bin"] as Buffer)], [1, 2]);
    const before = grpcHeard.length;
    assert.equal(sampleValue((await probe("grpc_metadata_not_ascii", grpc)).samples, "probe_success"), 0);
    assert.equal(grpcHeard.length, before, "metadata gRPC cannot carry is refused before any call");
    assert.ok(logLines.some((line) => line.includes("grpc_metadata_not_ascii") && line.includes("metadata: Metadata string value")), logLines.join(""));
  });

  it("runs grpc_plain against a gRPC health server", async () => {
    assert.equal(sampleValue((await probe("grpc_plain", grpc)).samples, "probe_success"), 1);
  });

  it("exports blackbox's http metrics: version, IP protocol, content and body lengths, failure due to regex", async () => {
    const ok = await probe("http_2xx", `${httpTarget}/ok`);
    for (const [name, value] of [["probe_http_version", 1.1], ["probe_ip_protocol", 4], ["probe_http_content_length", 4], ["probe_http_uncompressed_body_length", 4], ["probe_failed_due_to_regex", 0], ["probe_http_redirects", 0], ["probe_http_ssl", 0]] as const) {
      assert.equal(sampleValue(ok.samples, name), value, name);
    }
    const regex = await probe("http_body", `${httpTarget}/ok`);
    assert.equal(sampleValue(regex.samples, "probe_success"), 0);
    assert.equal(sampleValue(regex.samples, "probe_failed_due_to_regex"), 1);
  });

  it("applies blackbox's body and header regexps (each value of a repeated header, allow_missing) and fail_if_ssl / fail_if_not_ssl", async () => {
    const expectations: Array<[module: string, target: string, success: number, dueToRegex: number]> = [
      ["http_body_forbidden", `${httpTarget}/ok`, 0, 1],
      ["http_body_forbidden_absent", `${httpTarget}/ok`, 1, 0],
      ["http_body_all", `${httpTarget}/ok`, 1, 0],
      ["http_body_all_fail", `${httpTarget}/ok`, 0, 1],
      ["http_header_matches", `${httpTarget}/ok`, 0, 1],
      ["http_header_missing_allowed", `${httpTarget}/ok`, 1, 0],
      ["http_header_missing", `${httpTarget}/ok`, 0, 1],
      ["http_header_not_matches", `${httpTarget}/ok`, 1, 0],
      ["http_header_not_matches_fail", `${httpTarget}/ok`, 0, 1],
      ["http_missing_not_matches_allowed", `${httpTarget}/ok`, 1, 0],
      ["http_fail_if_ssl", `${httpTarget}/ok`, 1, 0],
      ["http_fail_if_ssl", httpsOrigin, 0, 0],
      ["http_fail_if_not_ssl", `${httpTarget}/ok`, 0, 0],
      ["http_fail_if_not_ssl", httpsOrigin, 1, 0],
    ];
    assert.deepEqual(await probeTable(expectations, ["probe_success", "probe_failed_due_to_regex"]), expectations);
  });

  it("runs blackbox.yml's postgresql dialogue (!!binary send, expect_bytes, STARTTLS) and ssh_banner_extract's labels", async () => {
    const insecure = await probe("postgresql_insecure", postgresTarget);
    assert.equal(sampleValue(insecure.samples, "probe_success"), 1, insecure.body);
    assert.equal(sampleValue(insecure.samples, "probe_tls_version_info", { version: "TLS 1.3" }), 1);
    assert.deepEqual(postgresHeard, ["0000000804d2162f0a"], "the SSLRequest bytes, and the newline blackbox writes after every send");
    const verified = await probe("postgresql", postgresTarget);
    assert.equal(verified.status, 200);
    assert.equal(sampleValue(verified.samples, "probe_success"), 0, "the standard module verifies the certificate, self-signed here");
    assert.equal(postgresHeard.length, 2, "the standard module ran its dialogue");
    const refused = await probe("postgresql_insecure", postgresWithoutTls);
    assert.deepEqual([sampleValue(refused.samples, "probe_success"), sampleValue(refused.samples, "probe_failed_due_to_bytes"), sampleValue(refused.samples, "probe_failed_due_to_regex")], [0, 1, 0]);
    const extracted = await probe("ssh_banner_extract", ssh);
    assert.equal(sampleValue(extracted.samples, "probe_success"), 1, extracted.body);
    assert.equal(sampleValue(extracted.samples, "probe_expect_info", { ssh_version: "OpenSSH_9.6", ssh_comments: "Ubuntu" }), 1, "ssh_banner_extract's labels from the banner's groups");
    const noBanner = await probe("ssh_banner", notSsh);
    assert.deepEqual([sampleValue(noBanner.samples, "probe_failed_due_to_regex"), sampleValue(noBanner.samples, "probe_failed_due_to_bytes")], [1, 0]);
  });

  it("uses tls_config's inline ca, cert and key as their file forms", async () => {
    const expectations: Array<[module: string, target: string, success: number]> = [
      ["tcp_ca_inline", pop3s, 1],
      ["tcp_ca_inline", tls12Target, 1],
      ["tcp_client_cert_inline", mtlsTarget, 1],
      ["http_client_cert_inline", mtlsHttpsOrigin, 1],
      ["grpc_ca_inline", grpcTls, 1],
    ];
    assert.deepEqual(await probeTable(expectations, ["probe_success"]), expectations);
  });

  it("uses tls_config's ca_file, cert_file and key_file from prober.filesDir, and its min_version and max_version", async () => {
    const expectations: Array<[module: string, target: string, success: number]> = [
      ["tcp_ca_file", pop3s, 1],
      ["pop3s_verified", pop3s, 0],
      ["tcp_ca_outside", pop3s, 0],
      ["tcp_client_cert", mtlsTarget, 1],
      ["tcp_no_client_cert", mtlsTarget, 0],
      ["tcp_max_tls12", pop3s, 1],
      ["tcp_min_tls13", tls12Target, 0],
      ["http_ca_file", httpsOrigin, 1],
      ["http_2xx", httpsOrigin, 0],
      ["http_client_cert", mtlsHttpsOrigin, 1],
      ["http_ca_file", mtlsHttpsOrigin, 0],
      ["grpc_ca_file", grpcTls, 1],
      ["grpc", grpcTls, 0],
    ];
    assert.deepEqual(await probeTable(expectations, ["probe_success"]), expectations);
    const tls12 = await probe("tcp_max_tls12", pop3s);
    assert.equal(sampleValue(tls12.samples, "probe_tls_version_info", { version: "TLS 1.2" }), 1, tls12.body);
  });

  it("exports blackbox's TLS gauges: leaf certificate labels, last chain expiry, cipher, and gRPC's ssl, status code and phases", async () => {
    // The expected labels come from the openssl CLI, not from the code under test.
    const openssl = (...args: string[]) => execFileSync("openssl", ["x509", "-noout", ...args], { input: certificate.certPem }).toString("utf8").trim();
    const fingerprint = openssl("-fingerprint", "-sha256").replace(/^.*=/, "").replaceAll(":", "").toLowerCase();
    const serial = openssl("-serial").replace(/^serial=/, "").toLowerCase().replace(/^(00)+/, "");
    const expiry = Math.floor(Date.parse(openssl("-enddate").replace(/^notAfter=/, "")) / 1000);
    const leaf = { fingerprint_sha256: fingerprint, subject: "CN=localhost", issuer: "CN=localhost", subjectalternative: "localhost", serialnumber: serial };
    const chainInfo = (samples: ReturnType<typeof parsePromText>) => samples.filter((sample) => sample.name === "probe_ssl_last_chain_info").map((sample) => [sample.labels, sample.value]);

    const verifiedTcp = await probe("tcp_ca_file", pop3s);
    assert.deepEqual(chainInfo(verifiedTcp.samples), [[leaf, 1]], verifiedTcp.body);
    assert.equal(sampleValue(verifiedTcp.samples, "probe_ssl_last_chain_expiry_timestamp_seconds"), expiry);
    assert.equal(sampleValue(verifiedTcp.samples, "probe_ssl_earliest_cert_expiry"), expiry);
    const unverifiedTcp = await probe("pop3s_self_signed", pop3s);
    assert.equal(sampleValue(unverifiedTcp.samples, "probe_ssl_last_chain_expiry_timestamp_seconds"), -62135596800, "no verified chain: Go's zero time, as blackbox");
    assert.equal(unverifiedTcp.samples.some((sample) => sample.name === "probe_tls_cipher_info"), false, "blackbox's tcp prober has no cipher gauge");

    const https = await probe("http_ca_file", httpsOrigin);
    assert.deepEqual(chainInfo(https.samples), [[leaf, 1]]);
    const cipher = https.samples.find((sample) => sample.name === "probe_tls_cipher_info");
    assert.match(cipher?.labels.cipher ?? "", /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/, https.body);
    assert.equal(cipher?.value, 1);

    const grpcTlsAnswer = await probe("grpc_ca_file", grpcTls);
    for (const [name, value] of [["probe_grpc_ssl", 1], ["probe_grpc_status_code", 0], ["probe_ssl_earliest_cert_expiry", expiry]] as const) assert.equal(sampleValue(grpcTlsAnswer.samples, name), value, name);
    assert.deepEqual(chainInfo(grpcTlsAnswer.samples), [[leaf, 1]]);
    for (const phase of ["resolve", "check"]) assert.ok((sampleValue(grpcTlsAnswer.samples, "probe_grpc_duration_seconds", { phase }) ?? -1) >= 0, phase);
    const plain = await probe("grpc_plain", grpc);
    assert.equal(sampleValue(plain.samples, "probe_grpc_ssl"), 0);
    const closed = await listenTcp(createTcpServer());
    await closed.close();
    const unreachable = await probe("grpc_ca_file", closed.target);
    assert.deepEqual([sampleValue(unreachable.samples, "probe_success"), sampleValue(unreachable.samples, "probe_grpc_ssl"), sampleValue(unreachable.samples, "probe_grpc_status_code")], [0, 0, 14], "UNAVAILABLE, no TLS reached");
    assert.deepEqual(unreachable.samples.filter((sample) => sample.name === "probe_grpc_healthcheck_response").map((sample) => sample.value), [0, 0, 0, 0], "every serving status 0, as blackbox shows a failed call");
  });

  it("puts the TLS version and the gRPC serving status in labels, as blackbox does", async () => {
    const verified = await probe("pop3s_verified", pop3s);
    assert.equal(sampleValue(verified.samples, "probe_success"), 0, "the certificate is verified by default, and it is self-signed here");
    const tls = await probe("pop3s_self_signed", pop3s);
    assert.equal(sampleValue(tls.samples, "probe_success"), 1, tls.body);
    assert.equal(sampleValue(tls.samples, "probe_tls_version_info", { version: "TLS 1.3" }), 1, tls.body);
    const health = await probe("grpc_plain", grpc);
    assert.deepEqual(health.samples.filter((sample) => sample.name === "probe_grpc_healthcheck_response").map((sample) => [sample.labels.serving_status, sample.value]), [["UNKNOWN", 0], ["SERVING", 1], ["NOT_SERVING", 0], ["SERVICE_UNKNOWN", 0]]);
  });

  it("answers modules that cannot run here (icmp, HTTP/3, websocket) or that blackbox fails for their configuration (DNS over TLS over udp) with probe_success 0 and a log line saying why", async () => {
    for (const [module, why] of [["icmp", /Node\.js does not offer/], ["icmp_ttl5", /ICMP sockets/], ["http_3xx", /HTTP\/3/], ["websocket", /websocket prober is not supported/], ["dns_over_tls", /dns_over_tls needs transport_protocol tcp/]] as const) {
      const before = logLines.length;
      const answer = await probe(module, module.startsWith("http") ? `${httpTarget}/ok` : "127.0.0.1");
      assert.equal(answer.status, 200, module);
      assert.equal(sampleValue(answer.samples, "probe_success"), 0, module);
      assert.equal(logLines.length, before + 1, module);
      assert.match(logLines.at(-1) ?? "", why, module);
      assert.match(logLines.at(-1) ?? "", new RegExp(`"module":"${module}"`), module);
    }
  });
});
