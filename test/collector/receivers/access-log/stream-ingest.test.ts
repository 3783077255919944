import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { identityFromStatic } from "../../../../collector/receivers/access-log/source-identity.ts";
import { ingestStream, type IngestProgress } from "../../../../collector/receivers/access-log/stream-ingest.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { istioLine, RecordingIngest, rejectCounter } from "./support.ts";

const proxy = identityFromStatic({ service: "reviews", namespace: "default" });

describe("ingestStream (stdin)", () => {
  it("ingests every line, counts rejects, reports progress and returns totals", async () => {
    const text = `${Array.from({ length: 5000 }, (_, index) => istioLine(index)).join("\n")}\nbroken line\n${istioLine(5000)}`;
    const ingest = new RecordingIngest();
    const { rejects, counts } = rejectCounter();
    const progress: IngestProgress[] = [];
    let clock = 0;
    const totals = await ingestStream(Readable.from([Buffer.from(text.slice(0, 100_000)), text.slice(100_000)]), {
      format: "istio",
      proxy,
      ingest,
      rejects,
      backpressure: { batchSize: 1000 },
      onProgress: (update) => progress.push(update),
      progressIntervalMs: 0,
      now: () => (clock += 10),
    });
    assert.equal(totals.isComplete, true);
    assert.equal(totals.lines, 5002);
    assert.equal(totals.accepted, 5001);
    assert.equal(totals.rejected, 1);
    assert.deepEqual(totals.rejectsByReason, { "access-log/field_count": 1 });
    assert.ok(totals.linesPerSecond > 0);
    assert.equal(ingest.entries.length, 5001);
    assert.equal(ingest.entries.at(-1)?.requestId, "req-5000");
    assert.ok(ingest.batches.every((batch) => batch.entries.length <= 1000));
    assert.deepEqual(ingest.batches[0]?.proxy, proxy);
    assert.ok(progress.length >= 2, "progress during the run and at the end");
    assert.deepEqual(progress.at(-1), totals);
    assert.equal((await counts())["access-log/field_count"], 1);
  });

  it("pauses reading while ingest refuses and continues when it accepts again", async () => {
    const input = new PassThrough();
    const ingest = new RecordingIngest();
    ingest.isRefusing = true;
    const { rejects } = rejectCounter();
    const run = ingestStream(input, { format: "istio", proxy, ingest, rejects, backpressure: { initialRetryDelayMs: 1, maxRetryDelayMs: 5 } });
    input.write(`${istioLine(1)}\n`);
    await waitFor(() => ingest.refusals >= 3, "refusals");
    assert.equal(ingest.entries.length, 0);
    ingest.isRefusing = false;
    input.end(`${istioLine(2)}\n`);
    const totals = await run;
    assert.deepEqual(
      ingest.entries.map((entry) => entry.requestId),
      ["req-1", "req-2"],
    );
    assert.equal(totals.accepted, 2);
  });

  it("stops when aborted while ingest refuses and says the run is incomplete", async () => {
    const ingest = new RecordingIngest();
    ingest.isRefusing = true;
    const { rejects } = rejectCounter();
    const abort = new AbortController();
    const run = ingestStream(Readable.from([`${istioLine(1)}\n`]), { format: "istio", proxy, ingest, rejects, signal: abort.signal });
    await waitFor(() => ingest.refusals >= 1, "a refusal");
    abort.abort();
    const totals = await run;
    assert.equal(totals.isComplete, false);
    assert.equal(totals.accepted, 0);
  });

  it("delivers a large chunk in order, a part at a time, with no line lost or split at the part boundaries", async () => {
    const lineCount = 4000; // ~1.3 MiB in ONE chunk, so lines straddle every internal boundary
    const text = `${Array.from({ length: lineCount }, (_, index) => istioLine(index)).join("\n")}\n`;
    const ingest = new RecordingIngest();
    const { rejects } = rejectCounter();
    const totals = await ingestStream(Readable.from([Buffer.from(text)]), { format: "istio", proxy, ingest, rejects });
    assert.equal(totals.rejected, 0);
    assert.equal(totals.accepted, lineCount);
    assert.deepEqual(
      ingest.entries.map((entry) => entry.requestId),
      Array.from({ length: lineCount }, (_, index) => `req-${index}`),
    );
    assert.ok(ingest.batches.length > 10, `a 1.3 MiB chunk is delivered in parts, got ${ingest.batches.length} batches`);
  });
});
