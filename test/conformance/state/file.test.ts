import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileStateStore } from "../../../core/state/file-state.ts";
import { runStateConformance } from "./suite.ts";

const dir = mkdtempSync(join(tmpdir(), "meshsight-state-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

runStateConformance("file", async (limits, now) => {
  const file = join(dir, `state-${files++}.json`);
  return { store: new FileStateStore({ file, limits, now }), cleanup: async () => rmSync(file, { force: true }) };
});

void describe("FileStateStore", () => {
  const limits = { maxKeys: 100, maxValueBytes: 10_000 };

  void it("keeps keys, versions and the revision across a restart", async () => {
    const file = join(dir, "restart.json");
    const first = new FileStateStore({ file, limits, now: Date.now });
    await first.start();
    const version = await first.put("gate/a", { x: 1 });
    await first.put("gate/b", 2);
    await first.delete("gate/b");
    const revision = await first.revision();
    await first.stop();
    const second = new FileStateStore({ file, limits, now: Date.now });
    await second.start();
    assert.deepEqual(await second.get("gate/a"), { value: { x: 1 }, version });
    assert.equal(await second.revision(), revision);
    assert.ok((await second.put("gate/c", 3)) > revision);
  });

  void it("reads an older file format through the user's legacy reader once, then writes its own", async () => {
    const file = join(dir, "legacy.json");
    writeFileSync(file, JSON.stringify([{ name: "a" }, { name: "b" }]));
    const legacy = (parsed: unknown) => (Array.isArray(parsed) ? Object.fromEntries(parsed.map((item: { name: string }) => [`case/${item.name}`, item])) : undefined);
    const store = new FileStateStore({ file, limits, now: Date.now, legacy });
    await store.start();
    assert.deepEqual((await store.list("case/", 10)).map((entry) => entry.key).sort(), ["case/a", "case/b"]);
    assert.match(readFileSync(file, "utf8"), /"format":"meshsight-state"/);
    writeFileSync(join(dir, "other.json"), "[1]");
    await assert.rejects(new FileStateStore({ file: join(dir, "other.json"), limits, now: Date.now }).start(), /not a meshsight state file/);
  });
});
