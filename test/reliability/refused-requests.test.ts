/**
 * Every request the OTLP/HTTP and Zipkin receivers refuse is counted in meshsight_rejected_total by source
 * and reason, whether the handler refused it or Fastify did before it ran (body limit, encoding, gzip,
 * parameters, tokens); so is every OTLP/gRPC request and ALS message grpc-js refuses for its size or its
 * compression before a handler runs: exact counts, real sockets.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type IncomingHttpHeaders } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { Client, compressionAlgorithms, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { ALS_MAX_MESSAGE_BYTES } from "../../collector/receivers/envoy-als/als-receiver.ts";
import { ALS_V3_METHOD_PATH } from "../../collector/receivers/envoy-als/service-definition.ts";
import { EXPORT_METHOD_PATH } from "../../collector/receivers/otlp/otlp-protos.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "../cli/cli-process.ts";
import { exportOverGrpc } from "../collector/receivers/otlp/otlp-client.ts";
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

/** A sample of meshsight_rejected_total from the process's GET /metrics, 0 when absent. */
async function scrapedRejects(base: string, source: string, reason: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sample = text.match(new RegExp(`^meshsight_rejected_total\\{source="${source}",reason="${reason}"\\} (\\S+)$`, "m"));
  return Number(sample?.[1] ?? 0);
}

/**
 * Sends one gRPC message marked compressed with `encoding` over plain HTTP/2 (a grpc-js client would
 * compress it properly), and settles with the grpc-status the server ends the call with.
 */
function sendCompressedFrame(port: number, encoding: string, payload: Buffer): Promise<number> {
  const session = connect(`http://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": EXPORT_METHOD_PATH, "content-type": "application/grpc", te: "trailers", "grpc-encoding": encoding });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt8(1, 0);
    prefix.writeUInt32BE(payload.length, 1);
    // A refusal before any message is answered "trailers-only": the status comes in the response headers.
    const settleOn = (headers: IncomingHttpHeaders) => {
      if (headers["grpc-status"] === undefined) return;
      session.close();
      resolve(Number(headers["grpc-status"]));
    };
    stream.on("response", settleOn);
    stream.on("trailers", settleOn);
    stream.on("error", reject);
    stream.resume();
    stream.end(Buffer.concat([prefix, payload]));
  });
}

/** Writes `messages` on one ALS stream with a real grpc-js client; settles with the call's outcome. */
function streamToAls(port: number, messages: readonly Buffer[]): Promise<ServiceError | null> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest<Buffer, Buffer>(ALS_V3_METHOD_PATH, (bytes) => bytes, (bytes) => bytes, (error) => {
      client.close();
      resolve(error);
    });
    // Writes after the refusal fail with the call; the outcome is the status.
    call.on("error", () => undefined);
    for (const message of messages) call.write(message);
    call.end();
  });
}

void describe("gRPC messages grpc-js refuses before a handler are counted", () => {
  const runs: CliRun[] = [];
  let dataDir = "";
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "meshsight-refused-grpc-"));
  });
  after(async () => {
    runs.forEach(killIfRunning);
    await rm(dataDir, { recursive: true, force: true });
  });

  void it("grpc-js refuses them (RESOURCE_EXHAUSTED, and bad or unknown compression) before any handler runs; /metrics counts each by reason", async () => {
    const run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], {
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_DATA_DIR: dataDir,
      MESHSIGHT_KUBERNETES: "off",
      MESHSIGHT_TRACE_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES),
    });
    runs.push(run);
    const base = `http://127.0.0.1:${await waitForHttpPort(run)}`;
    const otlpPort = await waitForListeningPort(run, "otlp-grpc");
    const alsPort = await waitForListeningPort(run, "als");

    // One plain request over the limit, and one gzip-compressed request that only inflates past it.
    const plain = await exportOverGrpc(otlpPort, Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x0a));
    const inflating = await exportOverGrpc(otlpPort, Buffer.alloc(MAX_REQUEST_BYTES * 8), { "grpc.default_compression_algorithm": compressionAlgorithms.gzip });
    assert.deepEqual([plain.error?.code, inflating.error?.code], [status.RESOURCE_EXHAUSTED, status.RESOURCE_EXHAUSTED]);
    const fitting = await exportOverGrpc(otlpPort, Buffer.alloc(0));
    assert.equal(fitting.error, null, "a request within the limit is still taken");
    assert.equal(await scrapedRejects(base, "otlp", "body-too-large"), 2);

    // A message grpc-js cannot inflate, and one in an encoding it lacks: refused before a handler, counted.
    assert.equal(await sendCompressedFrame(otlpPort, "gzip", Buffer.from("not gzip at all")), status.INTERNAL);
    assert.equal(await sendCompressedFrame(otlpPort, "snappy", Buffer.from("anything")), status.UNIMPLEMENTED);
    assert.deepEqual(
      [await scrapedRejects(base, "otlp", "malformed-compression"), await scrapedRejects(base, "otlp", "unsupported-content-encoding"), await scrapedRejects(base, "otlp", "body-too-large")],
      [1, 1, 2],
    );

    const alsOutcome = await streamToAls(alsPort, [Buffer.alloc(ALS_MAX_MESSAGE_BYTES + 1)]);
    assert.equal(alsOutcome?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(await scrapedRejects(base, "als", "body-too-large"), 1);

    const { code } = await stopWith(run, "SIGTERM");
    assert.equal(code, 0, run.stderr());
  });
});
