/**
 * Spans per CPU-second end to end: OTLP/gRPC requests from a real client (in this process) through decode,
 * mapping, span metrics and tail sampling into in-memory DuckDB. Prints figures, asserts nothing.
 * Run: npx tsx bench/spans.ts [totalSpans]
 */
import { credentials, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { EXPORT_METHOD_PATH, otlpTypes } from "../collector/receivers/otlp/otlp-protos.ts";
import { startTraceHarness } from "../test/collector/traces/harness.ts";

const TOTAL = Number(process.argv[2] ?? 200_000);
const PER_REQUEST = 1000;

function request(batch: number): Buffer {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: PER_REQUEST }, (_unused, i) => ({
    traceId: Buffer.from(`${(batch * PER_REQUEST + i + 1).toString(16).padStart(32, "0")}`, "hex"),
    spanId: Buffer.from(`${(i + 1).toString(16).padStart(16, "0")}`, "hex"),
    name: "GET /api/items/{id}",
    kind: 2,
    startTimeUnixNano: String(nowNs),
    endTimeUnixNano: String(nowNs + 4_000_000n),
    attributes: [
      { key: "http.request.method", value: { stringValue: "GET" } },
      { key: "url.path", value: { stringValue: `/api/items/${i}` } },
      { key: "http.response.status_code", value: { intValue: 200 } },
    ],
  }));
  const { request: type } = otlpTypes();
  const body = { resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: `svc${batch % 10}` } }] }, scopeSpans: [{ spans }] }] };
  return Buffer.from(type.encode(type.fromObject(body)).finish());
}

const harness = await startTraceHarness({ sampleRate: 0.01, maxBufferedSpans: 50_000, maxSpansPerRequest: PER_REQUEST });
const Client = makeGenericClientConstructor({}, "TraceService");
const client = new Client(`127.0.0.1:${harness.ports.otlpGrpc}`, credentials.createInsecure());
const requests = Array.from({ length: 20 }, (_unused, i) => request(i));
const send = (bytes: Buffer) =>
  new Promise<void>((resolve, reject) =>
    client.makeUnaryRequest(EXPORT_METHOD_PATH, (value: Buffer) => value, (value: Buffer) => value, bytes, (error: ServiceError | null) => (error ? reject(error) : resolve())),
  );
let maxRss = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let sent = 0, i = 0; sent < TOTAL; sent += PER_REQUEST, i++) {
  await send(requests[i % requests.length] as Buffer);
  if (i % 20 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
}
await harness.flush();
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`spans: ${TOTAL}, wall ${((performance.now() - wallBefore) / 1000).toFixed(2)} s, CPU ${cpuSeconds.toFixed(2)} s (client included)`);
console.log(`spans per CPU-second: ${Math.round(TOTAL / cpuSeconds)}; max RSS ${(Math.max(maxRss, process.memoryUsage().rss) / 1048576).toFixed(0)} MiB`);
client.close();
await harness.stop();
