import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IngestUsageError, parseIngestArgs } from "../../collector/ingest-command.ts";
import { formatSummary, ProgressLine } from "../../collector/ingest-report.ts";
import type { IngestProgress } from "../../collector/receivers/access-log/stream-ingest.ts";

/** The ingest command's argument handling and report text; ingest.test.ts runs the whole command. */

const progress: IngestProgress = { lines: 12_345, accepted: 12_000, rejected: 345, elapsedMs: 2_000, linesPerSecond: 6_172.5, rejectsByReason: { field_count: 345 } };

void describe("meshsight ingest arguments", () => {
  void it("takes its own flags in both spellings and leaves config flags for the config loader", () => {
    const parsed = parseIngestArgs(["--format=json", "--data-dir", "/tmp/x", "--service", "reviews.default", "--instance=reviews-v1-abc", "--role", "router", "--lateness-seconds=600"]);
    assert.deepEqual(parsed.options, { format: "json", identity: { service: "reviews.default", instance: "reviews-v1-abc", role: "router" } });
    assert.deepEqual(parsed.configArgs, ["--data-dir", "/tmp/x", "--lateness-seconds=600"]);
  });

  void it("says what is wrong with a bad command line", () => {
    const cases: [string[], RegExp][] = [
      [[], /--format is required/],
      [["--format"], /--format needs a value/],
      [["--format", "istio", "--format", "json"], /--format is given twice/],
      [["--format", "custom:%BROKEN"], /--format: /],
      [["--format", "istio", "--service", "a.b.c"], /--service "a.b.c": expected SERVICE or SERVICE.NAMESPACE/],
      [["--format", "istio", "--instance", "has space"], /--instance "has space"/],
    ];
    for (const [args, message] of cases) assert.throws(() => parseIngestArgs(args), (error: unknown) => error instanceof IngestUsageError && message.test(error.message), args.join(" "));
  });
});

void describe("meshsight ingest report", () => {
  void it("rewrites one progress line in place on a terminal and ends it before the summary", () => {
    const written: string[] = [];
    const line = new ProgressLine({ isTTY: true, write: (text: string) => written.push(text) });
    line.update(progress);
    line.update({ ...progress, lines: 20_000 });
    line.finish();
    assert.deepEqual(written, ["\r\u001b[K12,345 lines  6,173 lines/s  345 rejected", "\r\u001b[K20,000 lines  6,173 lines/s  345 rejected", "\n"]);
  });

  void it("writes no progress when stderr is a file or a pipe", () => {
    const written: string[] = [];
    const line = new ProgressLine({ isTTY: false, write: (text: string) => written.push(text) });
    line.update(progress);
    line.finish();
    assert.deepEqual(written, []);
  });

  void it("summarizes totals, rejects by reason and storage losses", () => {
    const text = formatSummary({
      totals: { ...progress, isComplete: false },
      rejects: { "access-log/field_count": 345, "aggregate/late": 2, "flush/dropped-on-stop": 7, "aggregate/future": 0 },
      droppedRows: 7,
      wasInterrupted: true,
    });
    assert.equal(
      text,
      [
        "interrupted after 12,345 lines in 2.00 s (6,173 lines/s): 12,000 accepted, 345 rejected",
        "rejects by reason: access-log/field_count 345, aggregate/late 2, flush/dropped-on-stop 7",
        "storage failed: 7 aggregated rows could not be written",
        "",
      ].join("\n"),
    );
  });
});
