/**
 * Every request the OTLP/HTTP and Zipkin receivers refuse is counted in meshsight_rejected_total by source
 * and reason, whether the handler refused it or Fastify did before it ran (body limit, encoding, gzip,
 * parameters, tokens): exact counts, real sockets.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { startTraceHarness, type TraceHarness } from "../collector/traces/harness.ts";
import { rejectsOf } from "./storage-backends.ts";

const MAX_REQUEST_BYTES = 1024;
const TOKEN = "ingest-token";

const RECEIVERS = [
  { source: "otlp", path: "/v1/traces", port: (harness: TraceHarness) => harness.ports.otlpHttp },
  { source: "zipkin", path: "/api/v2/spans", port: (harness: TraceHarness) => harness.ports.zipkin },
] as const;

void describe("refused trace requests are counted", () => {
  let harness: TraceHarness;
  before(async () => {
    harness = await startTraceHarness(
      {},
      {
        spanRequests: { maxBytes: MAX_REQUEST_BYTES },
        authorize: async (token) =>
          token === TOKEN ? { isAllowed: true, principal: "ingest" } : token === "reader" ? { isAllowed: false, status: 403, principal: "reader", needed: "ingest" } : false,
      },
    );
  });
  after(async () => {
    await harness.stop();
  });

  for (const receiver of RECEIVERS) {
    void it(`${receiver.source}: 413, 415, 400, 401 and 403 each count once, by reason`, async () => {
      const url = `http://127.0.0.1:${receiver.port(harness)}${receiver.path}`;
      const post = async (body: string | Uint8Array, headers: Record<string, string> = {}, query = "", token = TOKEN): Promise<number> => {
        const response = await fetch(`${url}${query}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers }, body });
        await response.arrayBuffer();
        return response.status;
      };
      const statuses = [
        await post("x".repeat(MAX_REQUEST_BYTES + 1)),
        await post(gzipSync("y".repeat(MAX_REQUEST_BYTES * 4)), { "content-encoding": "gzip" }),
        await post("[]", { "content-encoding": "br" }),
        await post("not gzip at all", { "content-encoding": "gzip" }),
        await post("[]", { "content-type": "text/plain" }),
        await post("{not json"),
        await post("[]", {}, "?format=a&format=b"),
        await post("[]", {}, "", "wrong"),
        await post("[]", {}, "", "reader"),
      ];
      assert.deepEqual(statuses, [413, 413, 415, 400, 415, 400, 400, 401, 403]);
      assert.deepEqual(await rejectsOf(harness.telemetry.registry, receiver.source), {
        "body-too-large": 2,
        "unsupported-content-encoding": 1,
        "malformed-gzip": 1,
        "unsupported-content-type": 1,
        "malformed-request": 1,
        "invalid-parameter": 1,
        unauthorized: 1,
        forbidden: 1,
      });
    });
  }
});
