/**
 * The lazy OTLP protobuf decoder against the reference: protobufjs decoding of the vendored protos, taken
 * through the OTLP/JSON path. Both must give the same SpanInput for the same request.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import protobuf from "protobufjs";
import { decodeOtlpJson, OtlpDecodeError } from "../../../../collector/receivers/otlp/otlp-decoder.ts";
import { otlpTypes } from "../../../../collector/receivers/otlp/otlp-protos.ts";
import { OtlpWireDecoder } from "../../../../collector/receivers/otlp/otlp-wire-decoder.ts";
import { MAX_ATTRIBUTES_PER_SPAN } from "../../../../collector/span-input.ts";

const MAX_SPANS = 1000;
const hexBytes = (hex: string) => Buffer.from(hex, "hex");

const richValues = [
  { key: "http.request.method", value: { stringValue: "GET" } },
  { key: "http.response.status_code", value: { intValue: 503 } },
  { key: "negative", value: { intValue: "-5" } },
  { key: "past.2^53", value: { intValue: "9007199254740993" } },
  { key: "int64.min", value: { intValue: "-9223372036854775808" } },
  { key: "ratio", value: { doubleValue: 0.25 } },
  { key: "retry", value: { boolValue: true } },
  { key: "blob", value: { bytesValue: hexBytes("00ff10") } },
  { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: 2 }, { arrayValue: { values: [{ boolValue: false }] } }] } } },
  { key: "map", value: { kvlistValue: { values: [{ key: "k", value: { stringValue: "v" } }, { key: "n", value: { doubleValue: 1.5 } }] } } },
  { key: "empty", value: {} },
  { key: "", value: { stringValue: "no key: skipped" } },
];

function richRequest(): Record<string, unknown> {
  const span = (index: number, extra: Record<string, unknown>) => ({
    traceId: hexBytes(`${"ab".repeat(15)}${index.toString(16).padStart(2, "0")}`),
    spanId: hexBytes(`${"cd".repeat(7)}${index.toString(16).padStart(2, "0")}`),
    name: `span ${index}`,
    kind: index % 6,
    startTimeUnixNano: "1763900000123456789",
    endTimeUnixNano: "1763900000223456789",
    traceState: "vendor=1",
    flags: 1,
    droppedAttributesCount: 3,
    events: [{ timeUnixNano: "1763900000123456790", name: "exception", attributes: [{ key: "exception.type", value: { stringValue: "Boom" } }] }],
    links: [{ traceId: hexBytes("11".repeat(16)), spanId: hexBytes("22".repeat(8)) }],
    ...extra,
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "reviews" } }, { key: "k8s.namespace.name", value: { stringValue: "default" } }] },
        schemaUrl: "https://opentelemetry.io/schemas/1.24.0",
        scopeSpans: [
          {
            scope: { name: "io.opentelemetry.http", version: "1.0" },
            spans: [
              span(1, { attributes: richValues, parentSpanId: hexBytes("ef".repeat(8)), status: { code: 2, message: "upstream failed" } }),
              span(2, { status: { code: 1 } }),
            ],
          },
          { spans: [span(3, { name: "ü".repeat(600) }), span(4, { endTimeUnixNano: "1763900000000000000" })] },
        ],
      },
      { scopeSpans: [{ spans: [span(5, {})] }] },
    ],
  };
}

function encode(body: Record<string, unknown>): Uint8Array {
  const { request } = otlpTypes();
  return request.encode(request.fromObject(body)).finish();
}

/** The reference: protobufjs reflection, then the OTLP/JSON mapping (ids and bytes as base64, 64-bit as decimal). */
function referenceDecode(bytes: Uint8Array): ReturnType<typeof decodeOtlpJson> {
  const { request } = otlpTypes();
  const object = request.toObject(request.decode(bytes), { longs: String, enums: Number, bytes: String });
  return decodeOtlpJson(JSON.stringify(object), MAX_SPANS);
}

void test("decodes every field meshsight uses exactly like protobufjs + the JSON mapping, skipping the rest", () => {
  const bytes = encode(richRequest());
  const decoded = new OtlpWireDecoder(MAX_SPANS).decode(bytes);
  assert.deepEqual(decoded, referenceDecode(bytes));
  assert.equal(decoded.length, 5);
  const [first] = decoded;
  assert.ok(first);
  assert.equal(first.traceId, `${"ab".repeat(15)}01`);
  assert.equal(first.parentSpanId, "ef".repeat(8));
  assert.equal(first.kind, "internal");
  assert.equal(first.durationNs, 100_000_000);
  assert.equal(first.startTimeUnixNano, 1763900000123456789n);
  assert.equal(first.hasErrorStatus, true);
  assert.equal(first.statusMessage, "upstream failed");
  assert.equal(first.attributes["past.2^53"], "9007199254740993");
  assert.equal(first.attributes["int64.min"], "-9223372036854775808");
  assert.equal(first.attributes.tags, JSON.stringify(["a", "2", JSON.stringify(["false"])]));
  assert.equal(first.attributes.blob, "AP8Q");
  assert.equal(first.resourceAttributes["service.name"], "reviews");
  assert.equal(decoded[3]?.durationNs, -1, "an end before the start stays visible to validation");
  assert.deepEqual(decoded[4]?.resourceAttributes, {});
});

void test("a resource sent after its spans still applies to them (protobuf allows any field order)", () => {
  const { request } = otlpTypes();
  const resourceSpans = request.lookupType("opentelemetry.proto.trace.v1.ResourceSpans");
  const spansFirst = resourceSpans.encode(resourceSpans.fromObject({ scopeSpans: [{ spans: [{ traceId: hexBytes("01".repeat(16)), spanId: hexBytes("02".repeat(8)), name: "late" }] }] })).finish();
  const resourceLater = resourceSpans.encode(resourceSpans.fromObject({ resource: { attributes: [{ key: "service.name", value: { stringValue: "ratings" } }] } })).finish();
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).bytes(Buffer.concat([spansFirst, resourceLater]));
  const [span] = new OtlpWireDecoder(MAX_SPANS).decode(writer.finish());
  assert.equal(span?.name, "late");
  assert.equal(span?.resourceAttributes["service.name"], "ratings");
});

void test("spans under the pre-1.0 instrumentation_library_spans field (1000) are read", () => {
  const spanType = otlpTypes().request.lookupType("opentelemetry.proto.trace.v1.Span");
  const span = spanType.encode(spanType.fromObject({ traceId: hexBytes("03".repeat(16)), spanId: hexBytes("04".repeat(8)), name: "old sdk" })).finish();
  const library = protobuf.Writer.create();
  library.uint32((2 << 3) | 2).bytes(span);
  const resourceSpans = protobuf.Writer.create();
  resourceSpans.uint32((1000 << 3) | 2).bytes(library.finish());
  const request = protobuf.Writer.create();
  request.uint32((1 << 3) | 2).bytes(resourceSpans.finish());
  const decoded = new OtlpWireDecoder(MAX_SPANS).decode(request.finish());
  assert.deepEqual(decoded.map((item) => item.name), ["old sdk"]);
});

void test("attributes past the per-span bound are dropped, the span is kept", () => {
  const attributes = Array.from({ length: MAX_ATTRIBUTES_PER_SPAN + 50 }, (_unused, index) => ({ key: `k${index}`, value: { intValue: index } }));
  const bytes = encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: hexBytes("05".repeat(16)), spanId: hexBytes("06".repeat(8)), attributes }] }] }] });
  const [span] = new OtlpWireDecoder(MAX_SPANS).decode(bytes);
  assert.equal(Object.keys(span?.attributes ?? {}).length, MAX_ATTRIBUTES_PER_SPAN);
  assert.equal(span?.attributes[`k${MAX_ATTRIBUTES_PER_SPAN - 1}`], String(MAX_ATTRIBUTES_PER_SPAN - 1));
});

void test("more spans than allowed is a decode error that says to split the batch", () => {
  const spans = Array.from({ length: 4 }, (_unused, index) => ({ traceId: hexBytes("07".repeat(16)), spanId: hexBytes(`${"08".repeat(7)}0${index}`) }));
  const bytes = encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
  assert.throws(() => new OtlpWireDecoder(3).decode(bytes), (error: Error) => error instanceof OtlpDecodeError && /more than 3 spans; split it/.test(error.message));
  assert.equal(new OtlpWireDecoder(4).decode(bytes).length, 4);
});

void test("every truncation and a corrupted byte at every offset is an OtlpDecodeError or a result, never a crash", () => {
  const bytes = Buffer.from(encode(richRequest()));
  const decoder = new OtlpWireDecoder(MAX_SPANS);
  let refused = 0;
  for (let cut = 0; cut < bytes.length; cut++) {
    for (const candidate of [bytes.subarray(0, cut), Buffer.from(bytes).fill(0xff, cut, cut + 1)]) {
      try {
        decoder.decode(candidate);
      } catch (error) {
        assert.ok(error instanceof OtlpDecodeError, `offset ${cut}: ${String(error)}`);
        assert.match(error.message, /malformed ExportTraceServiceRequest protobuf/);
        refused++;
      }
    }
  }
  assert.ok(refused > bytes.length / 2, `most damaged requests are refused (${refused})`);
});
