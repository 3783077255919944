/**
 * probe_ssl_last_chain_info's subject and issuer labels as blackbox_exporter writes them, Go's
 * pkix.Name.String() (crypto/x509/pkix): named attributes in Go's fixed order with values of one type in
 * one multi-valued RDN, other attributes as `<oid>=#<hex DER>`, RFC 2253 escapes. The certificate, made
 * by openssl, has a subject that needs all of these; the server is a TLS listener on loopback.
 */
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { createServer as createTlsServer } from "node:tls";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../../prober/kinds/tcp-kind.ts";
import { lookup } from "../helpers.ts";
import { generateCertificateWithSubject } from "../kinds/support/certificates.ts";
import { listen } from "../kinds/support/servers.ts";
import { startBlackboxApp, type BlackboxApp } from "./blackbox-app.ts";
import { parsePromText } from "./prom-text.ts";

/** In the certificate's order: C, O, OU, then OU and L in one RDN, CN (leading #, <>;\ and a trailing space), emailAddress. */
const SUBJECT = '/C=DE/O=Acme, "Inc"/OU=Ops/OU=Dev+L=Berlin/CN=#lead <a;b>=c \\\\ x /emailAddress=ops@example.com';
/**
 * Worked out from Go's source by hand: ToRDNSequence's order reversed (CN, OU, O, L, C), both OUs in one
 * RDN, the email address (no named field) last as its OID and asn1.Marshal of the string, a UTF8String
 * (tag 0c, 15 bytes) since "@" cannot be in a PrintableString; `=` is not escaped, as in Go.
 */
const GO_NAME = 'CN=\\#lead \\<a\\;b\\>=c \\\\ x\\ ,OU=Ops+OU=Dev,O=Acme\\, \\"Inc\\",L=Berlin,C=DE,1.2.840.113549.1.9.1=#0c0f6f7073406578616d706c652e636f6d';

describe("certificate names in probe_ssl_last_chain_info", () => {
  const certificate = generateCertificateWithSubject(SUBJECT);
  let started: BlackboxApp;
  let tlsTarget = "";
  let httpsOrigin = "";
  const closers: Array<() => Promise<void>> = [];
  const file = join(tmpdir(), `meshsight-blackbox-names-${process.pid}.yml`);

  before(async () => {
    const server = createTlsServer({ key: certificate.keyPem, cert: certificate.certPem }, (socket) => {
      socket.on("error", () => undefined);
      socket.end("+OK\r\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    tlsTarget = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const https = await listen((_request, response) => response.end("fine"), certificate);
    httpsOrigin = https.origin;
    closers.push(https.close);
    const insecure = { tls_config: { insecure_skip_verify: true } };
    await writeFile(file, `modules:\n  tls_insecure: ${JSON.stringify({ prober: "tcp", tcp: { tls: true, ...insecure } })}\n  https_insecure: ${JSON.stringify({ prober: "http", http: insecure })}\n`);
    started = await startBlackboxApp(lookup(tcpKind, httpKind), { blackboxConfigFile: file });
  });

  after(async () => {
    await started.stop();
    for (const close of closers) await close();
    await rm(file, { force: true });
  });

  it("writes subject and issuer as Go's pkix.Name.String() does, for tcp and http", async () => {
    for (const [module, target] of [["tls_insecure", tlsTarget], ["https_insecure", `${httpsOrigin}/`]] as const) {
      const response = await started.app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
      const info = parsePromText(response.body).filter((sample) => sample.name === "probe_ssl_last_chain_info");
      assert.deepEqual(info.map((sample) => [sample.labels.subject, sample.labels.issuer, sample.labels.subjectalternative, sample.value]), [[GO_NAME, GO_NAME, "localhost", 1]], `${module}: ${response.body}`);
    }
  });
});
