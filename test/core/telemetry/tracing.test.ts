import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createSelfTracing } from "../../../core/telemetry/tracing.ts";

const logger = createLogger({ level: "silent" });

/**
 * A real gRPC server speaking the OTLP trace service; it keeps the raw request bytes, which is enough
 * to see span and service names (protobuf stores strings verbatim) without decoding the schema.
 */
const received: Buffer[] = [];
const server = new grpc.Server();
let endpoint = "";
const passThrough = (bytes: Buffer): Buffer => bytes;

before(async () => {
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        received.push(call.request);
        // An empty message is a valid ExportTraceServiceResponse: full success.
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort)));
  });
  endpoint = `http://127.0.0.1:${port}`;
});
after(() => server.forceShutdown());

void describe("self-tracing", () => {
  void it("is off without an endpoint: spans are not recorded and nothing is sent", async () => {
    const tracing = createSelfTracing({ otlpEndpoint: undefined, serviceName: "meshsight-test", serviceVersion: "0", logger });
    await tracing.start();
    const span = trace.getTracer("test").startSpan("unrecorded-span");
    assert.equal(span.isRecording(), false);
    span.end();
    await tracing.stop();
    assert.equal(received.length, 0);
  });

  void it("exports spans over OTLP gRPC when an endpoint is set, flushing them on stop", async () => {
    const tracing = createSelfTracing({ otlpEndpoint: endpoint, serviceName: "meshsight-test", serviceVersion: "0", logger });
    await tracing.start();
    const span = trace.getTracer("test").startSpan("exported-span");
    assert.equal(span.isRecording(), true);
    span.end();
    await tracing.stop();
    const payload = Buffer.concat(received).toString("latin1");
    assert.ok(payload.includes("exported-span"), "span name reached the collector");
    assert.ok(payload.includes("meshsight-test"), "service.name reached the collector");
  });
});
