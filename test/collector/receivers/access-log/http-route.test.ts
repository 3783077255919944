import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { registerLogIngestRoutes } from "../../../../collector/receivers/access-log/http-route.ts";
import { istioLine, RecordingIngest, rejectCounter } from "./support.ts";

describe("POST /api/v1/logs over a real socket", () => {
  const ingest = new RecordingIngest();
  const { rejects, counts } = rejectCounter();
  const MAX_DECOMPRESSED = 4 * 1024 * 1024;
  let app: FastifyInstance;
  let baseUrl = "";

  before(async () => {
    app = Fastify();
    registerLogIngestRoutes(app, { ingest, rejects, maxDecompressedBytes: MAX_DECOMPRESSED });
    baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await app.close();
  });

  async function post(query: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(`${baseUrl}/api/v1/logs${query}`, { method: "POST", body, headers });
    return { status: response.status, body: await response.json(), headers: response.headers };
  }

  it("takes plain lines with the identity from query parameters, skips blank lines and reports rejects per reason", async () => {
    const body = [istioLine(1), "not an access log line", "", "  ", istioLine(2)].join("\n");
    const reply = await post("?format=istio&service=reviews&namespace=default&instance=reviews-v1-abc", body, { "content-type": "text/plain; charset=utf-8" });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { lines: 3, accepted: 2, rejected: 1, reasons: { "access-log/field_count": 1 } });
    const batch = ingest.batches.at(-1);
    assert.deepEqual(batch?.proxy.self, { service: "reviews.default", instance: "reviews-v1-abc.default" });
    assert.equal(batch?.proxy.role, "sidecar");
    assert.deepEqual(
      batch?.entries.map((entry) => entry.requestId),
      ["req-1", "req-2"],
    );
    assert.deepEqual(await counts(), { "access-log/field_count": 1 });
  });

  it("takes a gzip body with the format and identity in headers", async () => {
    const lines = `${JSON.stringify({ start_time: "2024-05-01T10:00:00Z", method: "GET", path: "/x", response_code: 204 })}\n`;
    const reply = await post("", gzipSync(lines), {
      "content-type": "application/x-ndjson",
      "content-encoding": "gzip",
      "x-meshsight-format": "json",
      "x-meshsight-service": "gateway",
      "x-meshsight-role": "router",
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { lines: 1, accepted: 1, rejected: 0, reasons: {} });
    const batch = ingest.batches.at(-1);
    assert.equal(batch?.proxy.role, "router");
    assert.equal(batch?.proxy.self.service, "gateway");
    assert.equal(batch?.entries[0]?.responseCode, 204);
  });

  it("stops inflating a gzip bomb at the decompressed cap with 413", async () => {
    // A valid gzip body may hold several members (RFC 1952); 1024 copies of a 1 MiB-of-zeros member inflate
    // to 1 GiB while the body stays ~1 MiB and costs milliseconds to build.
    const member = gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    const cpuBefore = process.cpuUsage();
    const reply = await post("?service=x", bomb, { "content-type": "text/plain", "content-encoding": "gzip" });
    const cpu = process.cpuUsage(cpuBefore);
    assert.equal(reply.status, 413);
    assert.equal((reply.body as { error: { code: string } }).error.code, "MS_BODY_TOO_LARGE");
    // Inflating the whole GiB would take seconds of CPU; stopping at the cap takes a small fraction.
    assert.ok(cpu.user + cpu.system < 2_000_000, `used ${cpu.user + cpu.system} µs of CPU`);
    assert.equal((await counts())["access-log/body_too_large"], 1);
  });

  it("answers malformed gzip with 400 MS_INVALID_GZIP_BODY", async () => {
    const broken = gzipSync(istioLine(3)).subarray(0, 20);
    const garbage = await post("", Buffer.from("definitely not gzip"), { "content-type": "text/plain", "content-encoding": "gzip" });
    const truncated = await post("", broken, { "content-type": "text/plain", "content-encoding": "gzip" });
    for (const reply of [garbage, truncated]) {
      assert.equal(reply.status, 400);
      assert.equal((reply.body as { error: { code: string } }).error.code, "MS_INVALID_GZIP_BODY");
    }
  });

  it("refuses wrong content types and encodings with 415 and unknown formats with 400", async () => {
    const xml = await post("", "<logs/>", { "content-type": "application/xml" });
    assert.equal(xml.status, 415);
    assert.equal((xml.body as { error: { code: string } }).error.code, "MS_UNSUPPORTED_MEDIA_TYPE");
    const brotli = await post("", "x", { "content-type": "text/plain", "content-encoding": "br" });
    assert.equal((brotli.body as { error: { code: string } }).error.code, "MS_UNSUPPORTED_CONTENT_ENCODING");
    const format = await post("?format=syslog", istioLine(4), { "content-type": "text/plain" });
    assert.equal(format.status, 400);
    assert.equal((format.body as { error: { code: string } }).error.code, "MS_INVALID_PARAMETER");
  });

  it("answers 429 with retry-after when ingest refuses, taking nothing", async () => {
    const before = ingest.entries.length;
    ingest.isRefusing = true;
    try {
      const reply = await post("?service=x", `${istioLine(5)}\n${istioLine(6)}\n`, { "content-type": "text/plain" });
      assert.equal(reply.status, 429);
      assert.equal((reply.body as { error: { code: string } }).error.code, "MS_INGEST_BUSY");
      assert.equal(reply.headers.get("retry-after"), "1");
    } finally {
      ingest.isRefusing = false;
    }
    assert.equal(ingest.entries.length, before);
  });
});
