import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SerialFileWriter } from "../../../core/files/text-file.ts";

const dir = mkdtempSync(join(tmpdir(), "meshsight-serial-writer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe("SerialFileWriter", () => {
  void it("folds a burst of writes into one rewrite, ending with the last text", async () => {
    const writer = new SerialFileWriter(join(dir, "burst.json"));
    let state = 0;
    const writes = Array.from({ length: 1_000 }, () => {
      state += 1;
      return writer.write(() => String(state));
    });
    await Promise.all(writes);
    assert.equal(readFileSync(writer.path, "utf8"), "1000");
    assert.equal(writer.rewriteCount, 1, "none had begun when the next came, so all went as one");
  });

  void it("writes again for a change made after the last write began, and keeps order across plain texts", async () => {
    const writer = new SerialFileWriter(join(dir, "order.txt"));
    await writer.write("a");
    const second = writer.write("b");
    const third = writer.write("c");
    await Promise.all([second, third]);
    assert.equal(readFileSync(writer.path, "utf8"), "c");
    await writer.write("d");
    assert.equal(readFileSync(writer.path, "utf8"), "d");
    assert.equal(writer.rewriteCount, 3, "a; b and c as one; d");
  });

  void it("gives a failed write's error to its callers and goes on with the next", async () => {
    const writer = new SerialFileWriter(join(dir, "fails.txt"));
    const failing = writer.write(() => {
      throw new Error("cannot render");
    });
    await assert.rejects(failing, /cannot render/);
    await writer.write("after");
    assert.equal(readFileSync(writer.path, "utf8"), "after");
  });
});
