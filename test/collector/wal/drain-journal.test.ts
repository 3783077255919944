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
