import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DrainJournal, type JournaledBatch } from "../../../collector/wal/drain-journal.ts";

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-journal-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function batches(journal: DrainJournal, ...kinds: JournaledBatch["kind"][]): JournaledBatch[] {
  return kinds.map((kind, index) => ({ id: journal.newWriteId(), kind, rows: [{ index }] }));
}

void test("a restart gets every journaled drain with its marks and only the batches not settled", async () => {
  await withDir(async (dir) => {
    const journal = new DrainJournal(dir);
    assert.deepEqual(journal.open(), []);
    const first = batches(journal, "metrics", "metrics", "entities");
    const second = batches(journal, "samples");
    const firstName = await journal.record([4, 2], first);
    await journal.record([6, 3], second);
    journal.settle(firstName, first[0]?.id ?? 0);

    const reopened = new DrainJournal(dir).open();
    assert.deepEqual(
      reopened.map((drain) => ({ marks: drain.marks, batches: drain.batches })),
      [
        { marks: [4, 2], batches: first.slice(1) },
        { marks: [6, 3], batches: second },
      ],
    );
  });
});

void test("a drain whose batches are all settled leaves no file behind", async () => {
  await withDir(async (dir) => {
    const journal = new DrainJournal(dir);
    journal.open();
    const drain = batches(journal, "metrics", "samples");
    const name = await journal.record([1], drain);
    assert.equal(journal.openDrains, 1);
    for (const batch of drain) journal.settle(name, batch.id);
    assert.equal(journal.openDrains, 0);
    assert.deepEqual(await readdir(dir), []);
  });
});

void test("open drops a drain never renamed into place and a settled list whose drain is gone", async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, "0000000000000007.json.tmp"), '{"marks":[9],"batc');
    await writeFile(join(dir, "0000000000000003.settled"), "12\n");
    assert.deepEqual(new DrainJournal(dir).open(), []);
    assert.deepEqual(await readdir(dir), []);
  });
});

void test("the spans a drain counted outlive its settling, and a copy cut short by a crash loses none", async () => {
  await withDir(async (dir) => {
    const journal = new DrainJournal(dir);
    journal.open();
    const drain = batches(journal, "metrics");
    const name = await journal.record([1, 0], drain, { 3: ["a:1", "a:2"] });
    for (const batch of drain) journal.settle(name, batch.id);
    const reopened = new DrainJournal(dir);
    reopened.open();
    assert.deepEqual(reopened.countedSpans, { 3: ["a:1", "a:2"] });

    await reopened.record([2, 0], batches(reopened, "metrics"), { 3: ["a:1", "a:2", "b:1"], 4: ["c:1"] });
    // The process died after the drain was in place, before its copy: the older list is still there.
    await writeFile(join(dir, "counted-spans.json"), JSON.stringify({ 3: ["a:1", "a:2"] }));
    const afterCrash = new DrainJournal(dir);
    afterCrash.open();
    assert.deepEqual(afterCrash.countedSpans, { 3: ["a:1", "a:2", "b:1"], 4: ["c:1"] });
  });
});
