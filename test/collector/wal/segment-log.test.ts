import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { readSegment, SegmentLog, type SegmentLogOptions } from "../../../collector/wal/segment-log.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function openLog(options: Partial<SegmentLogOptions> = {}, dir = mkdtempSync(join(tmpdir(), "meshsight-segments-"))): { log: SegmentLog; dir: string; stored: ReturnType<SegmentLog["open"]> } {
  dirs.push(dir);
  const log = new SegmentLog({ dir, maxBytes: 1_000_000, segmentBytes: 1_000_000, syncIntervalMs: 60_000, ...options });
  return { log, dir, stored: log.open() };
}

const text = (records: readonly Buffer[]): string[] => records.map((record) => record.toString());

void test("records written before a crash are read back in order by the next process, whole or not at all", async () => {
  const { log, dir } = openLog();
  assert.equal(log.append([Buffer.from("first")]), true);
  assert.equal(log.append([Buffer.from("sec"), Buffer.from("ond")]), true);
  await log.sync();
  // A torn tail: a header promising more bytes than the file holds, as a power loss mid-write leaves it.
  appendFileSync(join(dir, readdirSync(dir)[0] ?? ""), Buffer.from([0x10, 0, 0, 0, 1, 2, 3, 4, 0x61]));
  log.close();

  const reopened = openLog({}, dir);
  assert.deepEqual(reopened.stored.map((segment) => segment.number), [1]);
  const { records, isCutShort } = readSegment(reopened.stored[0]?.path ?? "");
  assert.deepEqual(text(records), ["first", "second"]);
  assert.equal(isCutShort, true);
  assert.equal(reopened.log.liveSegment, 2, "new records go after the old ones");
  reopened.log.close();
});

void test("records of one event-loop turn reach the file together right after it", async () => {
  const { log, dir } = openLog();
  log.append([Buffer.from("one")]);
  log.append([Buffer.from("two")]);
  const path = join(dir, readdirSync(dir)[0] ?? "");
  assert.deepEqual(text(readSegment(path).records), [], "not yet written within the turn");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(text(readSegment(path).records), ["one", "two"]);
  log.close();
});

void test("a record whose checksum does not match ends the segment's reading", () => {
  const { log, dir, stored } = openLog();
  assert.deepEqual(stored, []);
  log.append([Buffer.from("good")]);
  log.close();
  const path = join(dir, readdirSync(dir)[0] ?? "");
  appendFileSync(path, Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0x62, 0x61, 0x64]));
  assert.deepEqual(readSegment(path), { records: [Buffer.from("good")], isCutShort: true });
});

void test("seal closes the live segment and commit deletes what was sealed, never the live one", () => {
  const { log, dir } = openLog();
  log.append([Buffer.from("a")]);
  const mark = log.seal();
  assert.equal(mark, 1);
  log.append([Buffer.from("b")]);
  assert.equal(log.seal(), 2);
  assert.equal(log.seal(), 2, "an empty live segment is not closed again");
  log.commit(mark);
  assert.deepEqual(readdirSync(dir).sort(), ["000000000002.wal", "000000000003.wal"]);
  log.commit(log.seal());
  assert.deepEqual(readdirSync(dir), ["000000000003.wal"]);
  assert.equal(log.bytes, 0);
  log.close();
  assert.deepEqual(readdirSync(dir), [], "closing leaves no empty segment behind");
});

void test("a full log refuses appends until a commit frees room, and segments roll over at their size", async () => {
  const { log, dir } = openLog({ maxBytes: 40, segmentBytes: 20 });
  const record = Buffer.alloc(12, 1); // 20 bytes framed: one record per segment
  assert.equal(log.append([record]), true);
  assert.equal(log.append([record]), true);
  assert.equal(log.isFull(), true);
  assert.equal(log.append([record]), false, "refused, nothing written");
  assert.equal(log.bytes, 40);
  assert.equal(readdirSync(dir).length, 3, "two full segments and the live one");
  await log.sync();
  log.commit(log.seal());
  assert.equal(log.append([record]), true);
  log.close();
});
