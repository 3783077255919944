import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FileStateStore } from "../../core/state/file-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../core/state/state-stores.ts";
import { DEFAULT_CASE_LIMITS } from "../../prober/case.ts";
import { ProbeCaseService } from "../../prober/case-service.ts";
import { legacyCaseFile } from "../../prober/case-store.ts";
import { ProbeCatalog } from "../../prober/catalog.ts";
import { RecordingKind, lookup, silentLogger } from "./helpers.ts";

const kinds = lookup(new RecordingKind("test"));

/** A service over the stored cases in `dir`, as a (re)started prober has it: the store started, nothing loaded. */
async function serviceOver(dir: string, catalog = new ProbeCatalog(10)): Promise<{ service: ProbeCaseService; catalog: ProbeCatalog }> {
  const store = new FileStateStore({ file: join(dir, "data", "probe-cases.json"), limits: DEFAULT_STATE_LIMITS, now: Date.now, legacy: legacyCaseFile });
  await store.start();
  const service = new ProbeCaseService({
    catalog,
    kinds,
    limits: DEFAULT_CASE_LIMITS,
    maxCases: 10,
    casePaths: [join(dir, "cases.yaml")],
    store,
    logger: silentLogger,
  });
  return { service, catalog };
}

describe("ProbeCaseService", () => {
  it("keeps API cases across restarts, over file cases of the same name, and skips stored cases that no longer validate", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshsight-case-service-"));
    try {
      await writeFile(join(dir, "cases.yaml"), "name: web\nkind: test\ntargets: [from-file]\n---\nname: db\nkind: test\ntargets: [db]\n");
      const first = await serviceOver(dir);
      await first.service.load();
      await first.service.put("web", { kind: "test", targets: ["from-api"] });
      await first.service.put("extra", { kind: "test", targets: ["x"] });
      await first.service.delete("extra");

      const second = await serviceOver(dir);
      await second.service.load();
      assert.deepEqual(second.catalog.list().map((probe) => [probe.name, probe.targets.join()]), [["db", "db"], ["web", "from-api"]]);

      // A file of the format before the state port: read once as stored cases.
      await writeFile(join(dir, "data", "probe-cases.json"), JSON.stringify([{ name: "gone", kind: "removed-kind", targets: ["x"] }]));
      const third = await serviceOver(dir);
      await third.service.load();
      assert.deepEqual(third.catalog.list().map((probe) => probe.name), ["db", "web"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
