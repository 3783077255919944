import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileTailer, type FileTailerOptions } from "../../../../collector/receivers/access-log/file-tailer.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { istioLine, RecordingIngest, rejectCounter } from "./support.ts";

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), "meshsight-tailer-"));
  directories.push(directory);
  return directory;
}

function lines(from: number, to: number): string {
  let text = "";
  for (let index = from; index < to; index++) text += `${istioLine(index)}\n`;
  return text;
}

function requestIds(ingest: RecordingIngest): string[] {
  return ingest.entries.map((entry) => entry.requestId);
}

function ids(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, offset) => `req-${from + offset}`);
}

function tailer(directory: string, ingest: RecordingIngest, overrides: Partial<FileTailerOptions> = {}): FileTailer {
  const { rejects } = rejectCounter();
  return new FileTailer({
    paths: [join(directory, "*.log")],
    format: "istio",
    identity: { kind: "static", identity: { service: "reviews", namespace: "default", instance: "reviews-v1-abc" } },
    ingest,
    rejects,
    statePath: join(directory, "offsets.json"),
    pollIntervalMs: 10,
    stateSaveIntervalMs: 0,
    chunkBytes: 4096, // small chunks, so lines straddle chunk boundaries
    ...overrides,
  });
}

describe("FileTailer on real files", () => {
  it("follows appends, including a line written in two halves", async () => {
    const directory = tempDir();
    const file = join(directory, "access.log");
    writeFileSync(file, lines(0, 50));
    const ingest = new RecordingIngest();
    const tail = tailer(directory, ingest);
    await tail.start();
    try {
      await waitFor(() => ingest.entries.length === 50, "the first 50 lines");
      const half = istioLine(50);
      appendFileSync(file, half.slice(0, 40));
      appendFileSync(file, `${half.slice(40)}\n${lines(51, 60)}`);
      await waitFor(() => ingest.entries.length === 60, "the appended lines");
      assert.deepEqual(requestIds(ingest), ids(0, 60));
      assert.deepEqual(ingest.batches[0]?.proxy.self, { service: "reviews.default", instance: "reviews-v1-abc.default" });
    } finally {
      await tail.stop();
    }
  });

  it("finishes the old file on rotation (rename + new file) and restarts at 0 on truncation", async () => {
    const directory = tempDir();
    const file = join(directory, "access.log");
    writeFileSync(file, lines(0, 10));
    const ingest = new RecordingIngest();
    const tail = tailer(directory, ingest, { paths: [file] });
    await tail.start();
    try {
      await waitFor(() => ingest.entries.length === 10, "the first lines");
      // Rotation: the writer appends a last (unterminated) line to the renamed file, then a new file appears.
      renameSync(file, join(directory, "access.log.1"));
      appendFileSync(join(directory, "access.log.1"), istioLine(10));
      writeFileSync(file, lines(11, 15));
      await waitFor(() => ingest.entries.length === 15, "the rotated and the new lines");
      assert.deepEqual(requestIds(ingest), ids(0, 15));
      // Truncation (copytruncate): the file shrinks below the offset; all it now holds is new.
      truncateSync(file, 0);
      writeFileSync(file, lines(15, 17));
      await waitFor(() => ingest.entries.length === 17, "the lines after truncation");
      assert.deepEqual(requestIds(ingest), ids(0, 17));
    } finally {
      await tail.stop();
    }
  });

  it("saves offsets on stop and resumes from them without replaying or skipping", async () => {
    const directory = tempDir();
    const file = join(directory, "access.log");
    const partial = istioLine(20);
    writeFileSync(file, `${lines(0, 20)}${partial.slice(0, 30)}`);
    const first = new RecordingIngest();
    const firstTail = tailer(directory, first);
    await firstTail.start();
    await waitFor(() => first.entries.length === 20, "the first run's lines");
    await firstTail.stop();
    const state = JSON.parse(readFileSync(join(directory, "offsets.json"), "utf8")) as { files: Record<string, { offset: number }> };
    // The offset stops at the start of the unfinished line, so that line is read whole after the restart.
    assert.equal(state.files[file]?.offset, Buffer.byteLength(lines(0, 20)));

    appendFileSync(file, `${partial.slice(30)}\n${lines(21, 25)}`);
    const second = new RecordingIngest();
    const secondTail = tailer(directory, second);
    await secondTail.start();
    try {
      await waitFor(() => second.entries.length === 5, "the second run's lines");
      assert.deepEqual(requestIds(second), ids(20, 25));
    } finally {
      await secondTail.stop();
    }
  });

  it("reads nothing more while ingest refuses, and a stop then keeps the refused chunk for the next run", async () => {
    const directory = tempDir();
    writeFileSync(join(directory, "access.log"), lines(0, 5));
    const ingest = new RecordingIngest();
    ingest.isRefusing = true;
    const tail = tailer(directory, ingest);
    await tail.start();
    await waitFor(() => ingest.refusals >= 3, "repeated refusals");
    await tail.stop();
    assert.equal(ingest.entries.length, 0);

    const retry = new RecordingIngest();
    const retryTail = tailer(directory, retry);
    await retryTail.start();
    try {
      await waitFor(() => retry.entries.length === 5, "the refused lines, delivered after restart");
      assert.deepEqual(requestIds(retry), ids(0, 5));
    } finally {
      await retryTail.stop();
    }
  });

  it("hands what a file held when tailing began to a history input of its own, and what is appended after to the live input", async () => {
    const directory = tempDir();
    writeFileSync(join(directory, "a.log"), lines(0, 30));
    writeFileSync(join(directory, "b.log"), lines(100, 110));
    const live = new RecordingIngest();
    const histories: RecordingIngest[] = [];
    const tail = tailer(directory, live, {
      historyInput: () => {
        const history = new RecordingIngest();
        histories.push(history);
        return history;
      },
    });
    await tail.start();
    try {
      await waitFor(() => histories.reduce((sum, history) => sum + history.entries.length, 0) === 40, "both files' history");
      await waitFor(() => histories.length === 2 && histories.every((history) => history.ends === 1), "each history input told it is over once read");
      appendFileSync(join(directory, "a.log"), lines(30, 35));
      await waitFor(() => live.entries.length === 5, "the appended lines");
      assert.deepEqual([live.ends, ...histories.map((history) => history.ends)], [0, 1, 1], "the live input goes on; a history ends once");
      // One history input per file (each its own watermark); a file with nothing to read has none.
      assert.deepEqual(histories.map((history) => requestIds(history)).sort((a, b) => a.length - b.length), [ids(100, 110), ids(0, 30)]);
      assert.deepEqual(requestIds(live), ids(30, 35));
    } finally {
      await tail.stop();
    }
  });

  it("finds Kubernetes pod logs by glob and derives the proxy identity from the path", async () => {
    const root = tempDir();
    const podDirectory = join(root, "var/log/pods/bookinfo_reviews-v2-7d79d5bd5d-x2kpq_0b1c2d3e/istio-proxy");
    mkdirSync(podDirectory, { recursive: true });
    writeFileSync(join(podDirectory, "0.log"), `${lines(0, 2)}garbage line\n${lines(2, 3)}`);
    const ingest = new RecordingIngest();
    const { rejects, counts } = rejectCounter();
    const tail = tailer(root, ingest, {
      paths: [join(root, "var/log/pods/*/istio-proxy/*.log")],
      identity: { kind: "path", pattern: "kubernetes" },
      rejects,
    });
    await tail.start();
    try {
      await waitFor(() => ingest.entries.length === 3, "the pod's lines");
      const proxy = ingest.batches[0]?.proxy;
      assert.deepEqual(proxy?.self, { service: "reviews-v2.bookinfo", instance: "reviews-v2-7d79d5bd5d-x2kpq.bookinfo" });
      assert.equal(proxy?.namespace, "bookinfo");
      assert.equal(proxy?.role, "sidecar");
      assert.equal(proxy?.attributes.container, "istio-proxy");
      await waitFor(async () => (await counts())["access-log/field_count"] === 1, "the garbage line's reject");
    } finally {
      await tail.stop();
    }
  });
});
