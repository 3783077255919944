import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IngestUsageError, parseIngestArgs } from "../../collector/ingest-command.ts";
import { count, formatSummary, judgeIngest, ProgressLine, type IngestSummary } from "../../collector/ingest-report.ts";
import type { IngestProgress } from "../../collector/receivers/access-log/stream-ingest.ts";

/** The ingest command's argument handling and report text; ingest.test.ts runs the whole command. */

const progress: IngestProgress = { lines: 12_345, accepted: 12_000, rejected: 345, elapsedMs: 2_000, linesPerSecond: 6_172.5, rejectsByReason: { field_count: 345 } };

void describe("meshsight ingest arguments", () => {
  void it("takes its own flags in both spellings and leaves config flags for the config loader", () => {
    const parsed = parseIngestArgs(["--format=json", "--data-dir", "/tmp/x", "--service", "reviews.default", "--instance=reviews-v1-abc", "--role", "router", "--lateness-seconds=600"]);
    assert.deepEqual(parsed.options, { format: "json", identity: { service: "reviews.default", instance: "reviews-v1-abc", role: "router" }, files: [] });
    assert.deepEqual(parsed.configArgs, ["--data-dir", "/tmp/x", "--lateness-seconds=600"]);
    assert.equal(parseIngestArgs(["--format", "istio", "--max-reject-share", "0.25"]).options.maxRejectShare, 0.25);
    assert.equal(parseIngestArgs(["--format", "istio"]).options.maxRejectShare, undefined, "no limit unless asked");
  });

  void it("takes the words that are no flag's value as files, - as stdin", () => {
    const parsed = parseIngestArgs(["a.log", "--format", "istio", "--data-dir", "/tmp/x", "-", "--log-level=debug", "b.log"]);
    assert.deepEqual(parsed.options.files, ["a.log", "-", "b.log"]);
    assert.deepEqual(parsed.configArgs, ["--data-dir", "/tmp/x", "--log-level=debug"]);
  });

  void it("says what is wrong with a bad command line", () => {
    const cases: [string[], RegExp][] = [
      [[], /--format is required/],
      [["--format"], /--format needs a value/],
      [["--format", "istio", "--format", "json"], /--format is given twice/],
      [["--format", "custom:%BROKEN"], /--format: /],
      [["--format", "istio", "--service", "a.b.c"], /--service "a.b.c": expected SERVICE or SERVICE.NAMESPACE/],
      [["--format", "istio", "--instance", "has space"], /--instance "has space"/],
      [["--format", "istio", "--max-reject-share", "1.5"], /--max-reject-share "1.5": expected a number from 0 to 1/],
      [["--format", "istio", "--max-reject-share", "-0.1"], /--max-reject-share "-0.1": expected a number from 0 to 1/],
      [["--format", "istio", "--max-reject-share=half"], /--max-reject-share "half"/],
    ];
    for (const [args, message] of cases) assert.throws(() => parseIngestArgs(args), (error: unknown) => error instanceof IngestUsageError && message.test(error.message), args.join(" "));
  });
});

void describe("meshsight ingest report", () => {
  void it("groups thousands as en-US number formatting does, rounded to whole numbers", () => {
    const intl = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
    for (const value of [0, 7, 999, 1_000, 12_345, 123_456, 1_234_567, 1_200_000, 999.5, 268_156.7, 1e15]) {
      assert.equal(count(value), intl.format(value), String(value));
    }
  });

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

  void it("summarizes totals, the run's rejects by reason, the time range stored and storage losses apart", () => {
    const text = formatSummary({
      totals: { ...progress, rejected: 347, rejectsByReason: { "access-log/field_count": 345, "aggregate/late": 2, "aggregate/future": 0 }, isComplete: false },
      droppedRows: 7,
      wasInterrupted: true,
      covered: { fromMs: Date.UTC(2026, 11, 5, 10, 0), toMs: Date.UTC(2026, 11, 5, 12, 35) },
    });
    assert.equal(
      text,
      [
        "interrupted after 12,345 lines in 2.00 s (6,173 lines/s): 12,000 accepted, 347 rejected",
        "rejects by reason: access-log/field_count 345, aggregate/late 2",
        `time range: 2026-12-05T10:00Z to 2026-12-05T12:35Z (from=${Date.UTC(2026, 11, 5, 10, 0)}&to=${Date.UTC(2026, 11, 5, 12, 35)})`,
        "storage failed: 7 aggregated rows could not be written",
        "",
      ].join("\n"),
    );
  });
});

void describe("meshsight ingest exit codes", () => {
  const summary = (lines: number, accepted: number, overrides: Partial<IngestSummary> = {}): IngestSummary => ({
    totals: { ...progress, lines, accepted, rejected: lines - accepted, isComplete: true },
    droppedRows: 0,
    wasInterrupted: false,
    covered: null,
    ...overrides,
  });

  void it("succeeds on a stored input, an empty one, and a reject share at the limit", () => {
    assert.deepEqual(judgeIngest(summary(10, 10), true, undefined), { code: 0, message: "" });
    assert.deepEqual(judgeIngest(summary(0, 0), true, undefined), { code: 0, message: "" });
    assert.deepEqual(judgeIngest(summary(10, 9), true, 0.1), { code: 0, message: "" });
    assert.deepEqual(judgeIngest(summary(10, 1), true, undefined), { code: 0, message: "" }, "no limit by default");
  });

  void it("fails with 3 when a non-empty input stored nothing or more lines than the share were refused", () => {
    assert.deepEqual(judgeIngest(summary(300_000, 0), true, undefined), { code: 3, message: "nothing stored: none of the 300,000 lines was accepted" });
    assert.deepEqual(judgeIngest(summary(10, 8), true, 0.1), { code: 3, message: "20.0% of the lines were not accepted, more than --max-reject-share 0.1" });
  });

  void it("fails with 1 when storage lost rows or the run was interrupted, whatever was accepted", () => {
    assert.equal(judgeIngest(summary(10, 10, { droppedRows: 3 }), true, undefined).code, 1);
    assert.equal(judgeIngest(summary(10, 10), false, undefined).code, 1);
    assert.equal(judgeIngest(summary(10, 0, { wasInterrupted: true }), true, undefined).code, 1);
  });
});
