/**
 * blackbox_exporter's http `compression` and `body_size_limit` through `GET /probe` (docs/probes.md
 * "Blackbox exporter"), against a real HTTP server on loopback that sends bodies in each encoding.
 * Expectations follow prober/http.go: the body is decoded as the module says whatever the server
 * labels it, the limit applies to the decoded body, and a body that cannot be read fails the probe.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { brotliCompressSync, deflateRawSync, gzipSync } from "node:zlib";
import { startBlackboxHttpFixture, type BlackboxHttpFixture } from "./blackbox-app.ts";
import { sampleValue } from "./prom-text.ts";

const MESSAGE = Buffer.from("hello world".repeat(10));
const ENCODED: Readonly<Record<string, { encoding: string; body: Buffer }>> = {
  "/gzip": { encoding: "gzip", body: gzipSync(MESSAGE) },
  "/br": { encoding: "br", body: brotliCompressSync(MESSAGE) },
  "/deflate": { encoding: "deflate", body: deflateRawSync(MESSAGE) },
  "/identity": { encoding: "identity", body: MESSAGE },
  // A gzip header Go's gzip.NewReader refuses, and a valid header whose stream is cut short.
  "/gzip-bad-header": { encoding: "gzip", body: Buffer.from("not gzip at all") },
  "/gzip-cut-short": { encoding: "gzip", body: gzipSync(MESSAGE).subarray(0, -8) },
};

const module = (name: string, options: Record<string, unknown>) => `  ${name}: ${JSON.stringify({ prober: "http", http: options })}\n`;
const MODULES = `modules:\n${[
  module("http_gzip", { compression: "gzip" }),
  module("http_br", { compression: "br" }),
  module("http_deflate", { compression: "deflate" }),
  module("http_identity", { compression: "identity" }),
  module("http_gzip_accepting", { compression: "gzip", headers: { "Accept-Encoding": "br;q=1.0, gzip;q=0.9" } }),
  module("http_gzip_not_accepted", { compression: "gzip", headers: { "Accept-Encoding": "br, identity" } }),
  module("http_limit_110", { body_size_limit: "110B" }),
  module("http_limit_100", { body_size_limit: 100 }),
  module("http_limit_1kb", { body_size_limit: "1KB" }),
  module("http_limit_100_pattern", { body_size_limit: 100, fail_if_body_not_matches_regexp: ["hello"] }),
  module("http_gzip_limit_100", { compression: "gzip", body_size_limit: 100 }),
  module("http_limit_bad", { body_size_limit: "lots" }),
  module("http_gzip_pattern", { compression: "gzip", fail_if_body_not_matches_regexp: ["hello"] }),
  module("http_gzip_cel", { compression: "gzip", fail_if_body_json_not_matches_cel: "body == 'hello'" }),
].join("")}`;

describe("GET /probe with blackbox http compression and body_size_limit", () => {
  const acceptEncodings: string[] = [];
  let logLines: string[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    acceptEncodings.push(String(request.headers["accept-encoding"] ?? ""));
    const encoded = ENCODED[request.url ?? ""] ?? { encoding: "", body: MESSAGE };
    if (encoded.encoding !== "") response.setHeader("content-encoding", encoded.encoding);
    response.setHeader("content-length", encoded.body.length);
    response.end(encoded.body);
  });
  let fixture: BlackboxHttpFixture;
  const probe = (moduleName: string, path: string) => fixture.probe(moduleName, path);

  before(async () => {
    fixture = await startBlackboxHttpFixture(server, MODULES);
    logLines = fixture.started.logLines;
  });

  after(() => fixture.stop());

  it("decodes gzip, br, raw deflate and identity bodies: Content-Length is the encoded size, the uncompressed length the decoded one", async () => {
    const rows: Array<[string, string, number, number, number]> = [];
    for (const [moduleName, path] of [["http_gzip", "/gzip"], ["http_br", "/br"], ["http_deflate", "/deflate"], ["http_identity", "/identity"]] as const) {
      const samples = await probe(moduleName, path);
      rows.push([moduleName, path, sampleValue(samples, "probe_success")!, sampleValue(samples, "probe_http_content_length")!, sampleValue(samples, "probe_http_uncompressed_body_length")!]);
    }
    assert.deepEqual(rows, [
      ["http_gzip", "/gzip", 1, ENCODED["/gzip"]!.body.length, 110],
      ["http_br", "/br", 1, ENCODED["/br"]!.body.length, 110],
      ["http_deflate", "/deflate", 1, ENCODED["/deflate"]!.body.length, 110],
      ["http_identity", "/identity", 1, 110, 110],
    ]);
    assert.ok(ENCODED["/gzip"]!.body.length !== 110 && ENCODED["/br"]!.body.length !== 110, "the encoded sizes differ from the decoded one");
    assert.deepEqual(acceptEncodings.slice(-4), ["", "", "", ""], "like blackbox (whose client does not ask for compression), no Accept-Encoding unless the module sets one");
  });

  it("fails the probe when the body is not in the module's encoding, also when the server labels it correctly", async () => {
    const rows: Array<[string, string, number | undefined]> = [];
    for (const [moduleName, path] of [["http_deflate", "/gzip"], ["http_gzip", "/br"], ["http_br", "/identity"], ["http_gzip", "/plain"]] as const) {
      rows.push([moduleName, path, sampleValue(await probe(moduleName, path), "probe_success")]);
    }
    assert.deepEqual(rows, [["http_deflate", "/gzip", 0], ["http_gzip", "/br", 0], ["http_br", "/identity", 0], ["http_gzip", "/plain", 0]]);
  });

  it("sends an Accept-Encoding that accepts the compression, and answers probe_success 0 with a log line for one that does not (blackbox refuses that module)", async () => {
    assert.equal(sampleValue(await probe("http_gzip_accepting", "/gzip"), "probe_success"), 1);
    assert.equal(acceptEncodings.at(-1), "br;q=1.0, gzip;q=0.9");
    const requestsBefore = acceptEncodings.length;
    assert.equal(sampleValue(await probe("http_gzip_not_accepted", "/gzip"), "probe_success"), 0);
    assert.equal(acceptEncodings.length, requestsBefore, "the refused module sends no request");
    assert.ok(logLines.some((line) => line.includes("http_gzip_not_accepted") && line.includes('Accept-Encoding \\"br, identity\\" does not accept compression gzip')), logLines.join(""));
  });

  it("fails a body larger than body_size_limit (after decoding), reporting the limit as the bytes read, as Go's MaxBytesReader does", async () => {
    const metrics = ["probe_success", "probe_http_uncompressed_body_length", "probe_failed_due_to_regex"] as const;
    const rows: Array<[string, string, ...Array<number | undefined>]> = [];
    for (const [moduleName, path] of [["http_limit_110", "/plain"], ["http_limit_1kb", "/plain"], ["http_limit_100", "/plain"], ["http_limit_100_pattern", "/plain"], ["http_gzip_limit_100", "/gzip"]] as const) {
      const samples = await probe(moduleName, path);
      rows.push([moduleName, path, ...metrics.map((name) => sampleValue(samples, name))]);
    }
    assert.ok(ENCODED["/gzip"]!.body.length < 100, "the gzip body is under the limit before decoding");
    assert.deepEqual(rows, [
      ["http_limit_110", "/plain", 1, 110, 0],
      ["http_limit_1kb", "/plain", 1, 110, 0],
      ["http_limit_100", "/plain", 0, 100, 0],
      // Blackbox reads the body inside the pattern check, so the failed read counts as the pattern failing.
      ["http_limit_100_pattern", "/plain", 0, 100, 1],
      ["http_gzip_limit_100", "/gzip", 0, 100, 0],
    ]);
  });

  it("counts a gzip body whose header Go refuses as failing before the body checks, and one cut short as failing in them", async () => {
    const metrics = ["probe_success", "probe_failed_due_to_regex", "probe_failed_due_to_cel", "probe_http_uncompressed_body_length"] as const;
    const rows: Array<[string, string, ...Array<number | undefined>]> = [];
    for (const [moduleName, path] of [["http_gzip_pattern", "/gzip-bad-header"], ["http_gzip_pattern", "/gzip-cut-short"], ["http_gzip_cel", "/gzip-bad-header"], ["http_gzip_cel", "/gzip-cut-short"]] as const) {
      const samples = await probe(moduleName, path);
      rows.push([moduleName, path, ...metrics.map((name) => sampleValue(samples, name))]);
    }
    const rawLength = ENCODED["/gzip-bad-header"]!.body.length;
    assert.deepEqual(rows.map((row) => row.slice(0, 5)), [
      // gzip.NewReader fails: blackbox's body checks never run, and it reads the body as sent.
      ["http_gzip_pattern", "/gzip-bad-header", 0, 0, undefined],
      // The read fails inside the first body check, the patterns' or else the CEL expression's.
      ["http_gzip_pattern", "/gzip-cut-short", 0, 1, undefined],
      ["http_gzip_cel", "/gzip-bad-header", 0, 0, 0],
      ["http_gzip_cel", "/gzip-cut-short", 0, 0, 1],
    ]);
    assert.deepEqual([rows[0]![5], rows[2]![5]], [rawLength, rawLength], "the refused body is counted as sent");
  });

  it("answers probe_success 0 with a log line for a body_size_limit that is not a size", async () => {
    assert.equal(sampleValue(await probe("http_limit_bad", "/plain"), "probe_success"), 0);
    assert.ok(logLines.some((line) => line.includes("http_limit_bad") && line.includes("body_size_limit") && line.includes("expected a size such as 1MB")), logLines.join(""));
  });
});
