import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { pino } from "pino";
import type { Span } from "../../../core/model/span.ts";
import type { SpanInput } from "../../../collector/span-input.ts";
import type { CountedSpans } from "../../../collector/wal/drain-journal.ts";
import { SegmentLog } from "../../../collector/wal/segment-log.ts";
import { SpanWriteAhead } from "../../../collector/wal/span-write-ahead.ts";
import { telemetry } from "../aggregate/fixtures.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function openBuffer(dir = mkdtempSync(join(tmpdir(), "meshsight-span-wal-")), counted: CountedSpans = {}): { buffer: SpanWriteAhead; dir: string } {
  dirs.push(dir);
  const t = telemetry();
  const buffer = new SpanWriteAhead({ log: new SegmentLog({ dir, maxBytes: 1_000_000, segmentBytes: 1_000_000, syncIntervalMs: 60_000 }), registry: t.registry, rejects: t.rejects, logger: pino({ level: "silent" }) });
  buffer.open(0, counted);
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

void test("spans counted from segments still on disk are listed until their segment is committed, and known again after a crash", () => {
  const { buffer, dir } = openBuffer();
  const segment = buffer.append("otlp", [input("00f067aa0ba902b7"), input("00f067aa0ba902b8")]);
  const [counted, waiting] = [input("00f067aa0ba902b7"), input("00f067aa0ba902b8")].map(spanOf);
  if (counted === undefined || waiting === undefined) throw new Error("two spans");
  buffer.track([counted, waiting], segment);
  buffer.counted([counted]);
  buffer.release([counted]);
  const listed = buffer.countedSpans();
  assert.deepEqual(listed, { [segment]: ["4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7"] });
  buffer.commit(buffer.seal());
  assert.deepEqual(buffer.countedSpans(), listed, "the segment holds a span still waiting");
  buffer.close();

  // An entry for a segment no longer on disk is not taken: its number may come back.
  const restarted = openBuffer(dir, { ...listed, [segment + 5]: ["4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b9"] });
  assert.deepEqual(restarted.buffer.countedSpans(), listed);
  const replayed: Span[] = [];
  restarted.buffer.replay((inputs, from) => {
    const spans = inputs.map(spanOf);
    restarted.buffer.track(spans, from);
    replayed.push(...spans);
  });
  assert.deepEqual(
    replayed.map((span) => restarted.buffer.wasCounted(span)),
    [true, false],
  );
  restarted.buffer.counted(replayed);
  restarted.buffer.release(replayed);
  restarted.buffer.commit(restarted.buffer.seal());
  assert.deepEqual(restarted.buffer.countedSpans(), {}, "committed with its segment");
  restarted.buffer.close();
});
