import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { pino } from "pino";
import type { Span } from "../../../core/model/span.ts";
import type { SpanInput } from "../../../collector/span-input.ts";
import { SegmentLog } from "../../../collector/wal/segment-log.ts";
import { SpanWriteAhead } from "../../../collector/wal/span-write-ahead.ts";
import { telemetry } from "../aggregate/fixtures.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function openBuffer(dir = mkdtempSync(join(tmpdir(), "meshsight-span-wal-"))): { buffer: SpanWriteAhead; dir: string } {
  dirs.push(dir);
  const t = telemetry();
  const buffer = new SpanWriteAhead({ log: new SegmentLog({ dir, maxBytes: 1_000_000, segmentBytes: 1_000_000, syncIntervalMs: 60_000 }), registry: t.registry, rejects: t.rejects, logger: pino({ level: "silent" }) });
  buffer.open();
  return { buffer, dir };
}

function input(spanId: string): SpanInput {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId,
    parentSpanId: "",
    name: "GET /items",
    kind: "server",
    startTimeUnixNano: 1_714_564_800_123_456_789n,
    durationNs: 1_500_000,
    hasErrorStatus: false,
    statusMessage: "",
    attributes: { "http.route": "/items" },
    resourceAttributes: { "service.name": "shop" },
  };
}

/** Stands in for the mapped span the tail sampler holds: the buffer only tells spans apart by identity. */
const spanOf = (value: SpanInput): Span => ({ ...value, isError: false, service: "shop", instance: "", endpoint: "GET:/items", peerService: "" });

void test("a segment is committed only once every span logged in it is released, and its spans come back after a crash", () => {
  const { buffer, dir } = openBuffer();
  const first = [input("00f067aa0ba902b7")];
  const second = [input("00f067aa0ba902b8")];
  const firstSegment = buffer.append("otlp", first);
  const firstSpans = first.map(spanOf);
  buffer.track(firstSpans, firstSegment);
  assert.equal(buffer.seal(), firstSegment - 1, "an unsettled span keeps its segment");
  const secondSegment = buffer.append("zipkin", second);
  const secondSpans = second.map(spanOf);
  buffer.track(secondSpans, secondSegment);
  buffer.hold(secondSpans); // kept: waits for storage too
  buffer.release(secondSpans); // metrics counted
  buffer.release(firstSpans);
  assert.equal(buffer.seal(), secondSegment - 1, "the second segment's span still waits for storage");
  buffer.commit(secondSegment - 1);
  buffer.close(); // killed before storage answered

  const restarted = openBuffer(dir);
  const replayed: { spanIds: string[]; segment: number; start: bigint | undefined }[] = [];
  restarted.buffer.replay((inputs, segment) => replayed.push({ spanIds: inputs.map((span) => span.spanId), segment, start: inputs[0]?.startTimeUnixNano }));
  assert.deepEqual(replayed, [{ spanIds: ["00f067aa0ba902b8"], segment: secondSegment, start: 1_714_564_800_123_456_789n }]);
  restarted.buffer.close();
});

void test("segments left by an earlier process are not committed before their spans are replayed", () => {
  const { buffer, dir } = openBuffer();
  buffer.append("otlp", [input("00f067aa0ba902b7")]);
  buffer.close();
  const restarted = openBuffer(dir);
  restarted.buffer.commit(restarted.buffer.seal());
  assert.equal(readdirSync(dir).length, 2, "the old segment and the new live one");
  let replayedSpans = 0;
  restarted.buffer.replay((inputs) => (replayedSpans += inputs.length));
  assert.equal(replayedSpans, 1);
  restarted.buffer.commit(restarted.buffer.seal());
  assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith("000000000001")), [], "nothing held it once replayed (untracked here)");
  restarted.buffer.close();
});
