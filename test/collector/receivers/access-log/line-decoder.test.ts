import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccessLogEntry } from "../../../../core/model/access-log.ts";
import { createLineParser } from "../../../../collector/receivers/access-log/formats.ts";
import { AccessLogLineDecoder } from "../../../../collector/receivers/access-log/line-decoder.ts";
import { LineSplitter } from "../../../../collector/receivers/access-log/line-splitter.ts";
import { istioLine, rejectCounter } from "./support.ts";

function decodeAll(chunks: readonly Buffer[], maxLineBytes = 64 * 1024): { decoder: AccessLogLineDecoder; entries: AccessLogEntry[] } {
  const decoder = new AccessLogLineDecoder(createLineParser("istio"), maxLineBytes);
  const entries: AccessLogEntry[] = [];
  for (const chunk of chunks) decoder.decode(chunk, entries);
  decoder.finish(entries);
  return { decoder, entries };
}

describe("hostile input", () => {
  it("rejects each bad line with its own reason and keeps every neighbour", async () => {
    const body = Buffer.concat([
      Buffer.from(`${istioLine(0)}\n`),
      Buffer.from("\n   \r\n"), // two blank lines: skipped, neither lines nor rejects
      Buffer.from(`${istioLine(1)}\n`),
      Buffer.from(`${istioLine(2).slice(0, 90)}\n`), // truncated
      Buffer.from(`${istioLine(3)}\n`),
      Buffer.concat([Buffer.from(istioLine(4).slice(0, 50)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from("\n")]), // invalid UTF-8
      Buffer.from(`${istioLine(5)}\r\n`), // CRLF is fine
      Buffer.from([0x00, 0x01, 0x02, 0x7f, 0x10, 0x0a]), // binary garbage that is valid UTF-8
      Buffer.from(`${"x".repeat(1024 * 1024)}\n`), // a 1 MiB line
      Buffer.from(`${istioLine(6)}\n`),
      Buffer.from(`${istioLine(7)} and more fields\n`),
      Buffer.from(istioLine(8)), // no final newline: still a line at end of input
    ]);
    // Feed it in odd-sized chunks so lines, multi-byte sequences and the long line straddle chunk boundaries.
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < body.length; offset += 7919) chunks.push(body.subarray(offset, offset + 7919));
    const { decoder, entries } = decodeAll(chunks);
    assert.deepEqual(
      entries.map((entry) => entry.requestId),
      ["req-0", "req-1", "req-3", "req-5", "req-6", "req-8"],
    );
    assert.deepEqual(decoder.tally.byReason(), { field_count: 3, invalid_utf8: 1, line_too_long: 1 });
    assert.equal(decoder.linesSeen, 11);

    const { rejects, counts } = rejectCounter();
    decoder.tally.reportTo(rejects);
    decoder.tally.reportTo(rejects); // nothing new: must not count twice
    assert.deepEqual(await counts(), {
      "access-log/field_count": 3,
      "access-log/invalid_utf8": 1,
      "access-log/line_too_long": 1,
    });
  });

  it("never holds more than the line cap for a line without a newline", () => {
    const decoder = new AccessLogLineDecoder(createLineParser("istio"), 1000);
    const entries: AccessLogEntry[] = [];
    const endless = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 256; i++) {
      decoder.decode(endless, entries); // 1 MiB without a newline
      assert.ok(decoder.pendingBytes <= 1000);
    }
    decoder.decode(Buffer.from(`\n${istioLine(9)}\n`), entries);
    assert.deepEqual(
      entries.map((entry) => entry.requestId),
      ["req-9"],
    );
    assert.deepEqual(decoder.tally.byReason(), { line_too_long: 1 });
  });

  it("keeps multi-byte UTF-8 split across chunks intact", () => {
    const line = Buffer.from(istioLine(10).replace("curl/8.5.0", "клиент/1.0 ✓"));
    const cut = line.indexOf(Buffer.from("✓")) + 1; // inside the 3-byte sequence
    const { entries, decoder } = decodeAll([line.subarray(0, cut), Buffer.concat([line.subarray(cut), Buffer.from("\n")])]);
    assert.equal(decoder.tally.total, 0);
    assert.equal(entries[0]?.userAgent, "клиент/1.0 ✓");
  });
});

describe("lines decoded a block at a time", () => {
  it("hands over every line of a large read once and in order, blocks of ~64 KiB, one longer line as a block of its own", () => {
    const lines = Array.from({ length: 3000 }, (_, index) => (index === 1500 ? "x".repeat(90_000) : `line ${index} ${"y".repeat(index % 300)}`));
    const seen: string[] = [];
    let longestText = 0;
    const splitter = new LineSplitter(100_000);
    splitter.push(Buffer.from(`${lines.join("\r\n")}\r\n`), {
      line: (text, start, end) => {
        seen.push(text.slice(start, end));
        longestText = Math.max(longestText, text.length);
      },
      reject: (reason) => assert.fail(reason),
    });
    assert.deepEqual(seen, lines);
    assert.ok(longestText <= 90_000 + 64 * 1024, `${longestText} characters decoded at once`);
  });

  it("rejects a line over the cap inside a block and keeps its neighbours", () => {
    const { decoder, entries } = decodeAll([Buffer.from(`${istioLine(1)}\n${"z".repeat(2000)}\n   \n${istioLine(2)}\n`)], 1000);
    assert.deepEqual(
      entries.map((entry) => entry.requestId),
      ["req-1", "req-2"],
    );
    assert.deepEqual(decoder.tally.byReason(), { line_too_long: 1 });
  });
});
