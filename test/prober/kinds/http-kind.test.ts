import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { InvalidProbeSpecError } from "../../../prober/kinds/kind.ts";
import { generateCertificates, type TestCertificates } from "./support/certificates.ts";
import { contextWithTimeout, listen } from "./support/servers.ts";

type Listening = Awaited<ReturnType<typeof listen>>;

describe("http probe kind", () => {
  let plain: Listening;
  let certificates: TestCertificates;
  let selfSigned: Listening;
  let expired: Listening;
  const hanging = new Set<() => void>();

  before(async () => {
    plain = await listen((request, response) => {
      const path = request.url ?? "/";
      if (path === "/ok") return void response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "UP", checks: [{ name: "db", ok: true }] }));
      if (path === "/down") return void response.writeHead(503).end("database unavailable");
      if (path === "/hang") return void hanging.add(() => response.end());
      if (path.startsWith("/hop/")) {
        const left = Number(path.slice("/hop/".length));
        return void response.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : "/ok" }).end();
      }
      if (path === "/loop-a") return void response.writeHead(301, { location: "/loop-b" }).end();
      if (path === "/loop-b") return void response.writeHead(301, { location: "/loop-a" }).end();
      if (path === "/echo") {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => response.writeHead(200).end(`${request.method} ${String(request.headers["x-probe"] ?? "")} ${Buffer.concat(chunks).toString()}`));
        return;
      }
      response.writeHead(404).end();
    });
    certificates = generateCertificates(30);
    selfSigned = await listen((_request, response) => response.end("secure"), certificates.valid);
    expired = await listen((_request, response) => response.end("stale"), certificates.expired);
  });

  after(async () => {
    for (const release of hanging) release();
    await Promise.all([plain.close(), selfSigned.close(), expired.close()]);
  });

  it("passes on a 2xx with matching body and JSON assertions, with phases and metrics", async () => {
    const spec = httpKind.parseSpec({ bodyRegex: '"status":\\s*"UP"', json: [{ path: "$.status", equals: "UP" }, { path: "$.checks[0].ok", equals: true }, { path: "$.missing", exists: false }] });
    const outcome = await httpKind.run(spec, `${plain.origin}/ok`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "success", outcome.message);
    assert.equal(outcome.message, "");
    assert.equal(outcome.metrics.http_status_code, 200);
    assert.equal(outcome.metrics.http_ssl, 0);
    assert.equal(outcome.metrics.http_redirects, 0);
    assert.equal(outcome.metrics.http_content_length, -1, "no Content-Length header: blackbox's probe_http_content_length is -1");
    assert.ok(outcome.metrics.http_uncompressed_body_length! > 10);
    for (const phase of ["dns", "connect", "tls", "processing", "transfer", "firstByte", "total"]) assert.equal(typeof outcome.phases[phase], "number", phase);
    assert.ok(outcome.phases.connect! > 0, "connect is measured");
    assert.ok(outcome.phases.total! >= outcome.phases.firstByte!);
  });

  it("fails a JSON assertion with the path, the value and the expectation", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({ json: [{ path: "$.status", equals: "DOWN" }] }), `${plain.origin}/ok`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, '$.status is "UP", expected "DOWN"');
  });

  it("fails on a 503 naming expected and actual status and the body", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${plain.origin}/down`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^expected status 2xx from http:\/\/127\.0\.0\.1:\d+\/down, got 503 \(body: "database unavailable"\)$/);
    assert.equal(outcome.metrics.http_status_code, 503);
  });

  it("accepts a 503 when listed as a range", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({ expectedStatus: [200, "500-503"] }), `${plain.origin}/down`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "success", outcome.message);
  });

  it("sends method, headers and body", async () => {
    const spec = httpKind.parseSpec({ method: "POST", headers: { "x-probe": "yes" }, body: "ping", bodyRegex: "^POST yes ping$" });
    const outcome = await httpKind.run(spec, `${plain.origin}/echo`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "success", outcome.message);
  });

  it("stops at the signal when the server hangs, naming the step", async () => {
    const started = Date.now();
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${plain.origin}/hang`, contextWithTimeout(300));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^timed out after 300ms waiting for the response of http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(Date.now() - started < 3_000, "settles soon after the abort");
  });

  it("fails when slower than maxLatency", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({ maxLatency: "0ms" }), `${plain.origin}/ok`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /more than maxLatency 0ms$/);
  });

  it("follows and counts redirects, and caps them", async () => {
    const followed = await httpKind.run(httpKind.parseSpec({}), `${plain.origin}/hop/2`, contextWithTimeout(5_000));
    assert.equal(followed.status, "success", followed.message);
    assert.equal(followed.metrics.http_redirects, 3);
    const capped = await httpKind.run(httpKind.parseSpec({ maxRedirects: 1 }), `${plain.origin}/hop/2`, contextWithTimeout(5_000));
    assert.equal(capped.status, "failure");
    assert.match(capped.message, /^stopped after 1 redirects \(maxRedirects\): .*\/hop\/2 -> .*\/hop\/1$/);
    const notFollowed = await httpKind.run(httpKind.parseSpec({ followRedirects: false, expectedStatus: ["3xx"] }), `${plain.origin}/hop/2`, contextWithTimeout(5_000));
    assert.equal(notFollowed.status, "success", notFollowed.message);
    assert.equal(notFollowed.metrics.http_status_code, 302);
  });

  it("detects a redirect loop", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${plain.origin}/loop-a`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^redirect loop: .*\/loop-a -> .*\/loop-b -> .*\/loop-a$/);
  });

  it("reports a refused connection", async () => {
    const closed = await listen((_request, response) => response.end());
    await closed.close();
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${closed.origin}/`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^connecting to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });

  it("rejects a self-signed certificate unless tlsVerify is off, and reports TLS metrics", async () => {
    const verified = await httpKind.run(httpKind.parseSpec({}), `${selfSigned.origin}/`, contextWithTimeout(5_000));
    assert.equal(verified.status, "failure");
    assert.match(verified.message, /^TLS handshake with 127\.0\.0\.1:\d+: the certificate of 127\.0\.0\.1 is self-signed/);
    const unverified = await httpKind.run(httpKind.parseSpec({ tlsVerify: false }), `${selfSigned.origin}/`, contextWithTimeout(5_000));
    assert.equal(unverified.status, "success", unverified.message);
    assert.equal(unverified.metrics.http_ssl, 1);
    assert.equal(unverified.metrics.tls_version_info, 1.3);
    const expiresIn = unverified.metrics.ssl_earliest_cert_expiry! - Date.now() / 1000;
    assert.ok(Math.abs(expiresIn - certificates.validDays * 86_400) < 3_600, `expiry ${expiresIn}s from now`);
    assert.ok(unverified.phases.tls! > 0);
  });

  it("names an expired certificate", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({}), `${expired.origin}/`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /has expired \(CERT_HAS_EXPIRED\)/);
  });

  it("refuses bad specs naming the field", () => {
    assert.throws(() => httpKind.parseSpec({ expectedStatus: ["2xy"] }), (error: unknown) => error instanceof InvalidProbeSpecError && /^expectedStatus\.0: /.test(error.message));
    assert.throws(() => httpKind.parseSpec({ bodyRegex: "(" }), /bodyRegex: not a valid regular expression/);
    assert.throws(() => httpKind.parseSpec({ json: [{ path: "status" }] }), /json\.0\.path: a JSON path starts with "\$"/);
    assert.throws(() => httpKind.parseSpec({ timeout: "1s" }), /spec: unknown field\(s\) timeout/);
    assert.throws(() => httpKind.parseSpec({ maxLatency: "fast" }), /maxLatency: expected a duration/);
  });

  it("fails a target that is not a URL without throwing", async () => {
    const outcome = await httpKind.run(httpKind.parseSpec({}), "not a url", contextWithTimeout(1_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /is not a URL/);
  });
});
