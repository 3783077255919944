import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FileStateStore } from "../../core/state/file-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../core/state/state-stores.ts";
import { DEFAULT_CASE_LIMITS } from "../../prober/case.ts";
import { ProbeCaseHistory } from "../../prober/case-history.ts";
import { ProbeCaseService } from "../../prober/case-service.ts";
import { legacyCaseFile } from "../../prober/case-store.ts";
import { ProbeCatalog } from "../../prober/catalog.ts";
import { RecordingKind, lookup, silentLogger } from "./helpers.ts";

const kinds = lookup(new RecordingKind("test"));

/** A service over the stored cases in `dir`, as a (re)started prober has it: the store started, nothing loaded. */
async function serviceOver(dir: string, catalog = new ProbeCatalog(10), history = new ProbeCaseHistory(10, Date.now)): Promise<{ service: ProbeCaseService; catalog: ProbeCatalog }> {
  const store = new FileStateStore({ file: join(dir, "data", "probe-cases.json"), limits: DEFAULT_STATE_LIMITS, now: Date.now, legacy: legacyCaseFile });
  await store.start();
  const service = new ProbeCaseService({
    catalog,
    kinds,
    limits: DEFAULT_CASE_LIMITS,
    maxCases: 10,
    casePaths: [join(dir, "cases.yaml")],
    store,
    history,
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

  it("remembers API changes to cases by service for the analysis, not the cases a process starts with, at most its limit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshsight-case-history-"));
    try {
      await writeFile(join(dir, "cases.yaml"), "name: web\nkind: test\nservice: web.default\ntargets: [from-file]\n");
      const before = await serviceOver(dir);
      await before.service.load();
      await before.service.put("stored", { kind: "test", service: "ratings.default", targets: ["x"] });
      let clock = 1_000;
      const history = new ProbeCaseHistory(3, () => clock++);
      const { service } = await serviceOver(dir, new ProbeCatalog(10), history);
      await service.load();
      assert.deepEqual(history.of("ratings.default", 0, Infinity), [], "a stored case loaded at start is no change");
      await service.put("ratings-health", { kind: "test", service: "ratings.default", targets: ["y"] });
      await service.put("web", { kind: "test", service: "web.default", targets: ["z"] });
      assert.equal(await service.delete("stored"), true);
      assert.equal(await service.delete("never-defined"), false);
      assert.deepEqual(history.of("ratings.default", 0, Infinity), [
        { probe: "ratings-health", service: "ratings.default", action: "put", atMs: 1_000 },
        { probe: "stored", service: "ratings.default", action: "delete", atMs: 1_002 },
      ]);
      assert.deepEqual(history.of("ratings.default", 1_001, 1_002).map((change) => change.probe), ["stored"]);
      await service.put("more", { kind: "test", service: "web.default", targets: ["w"] });
      assert.deepEqual(history.of("ratings.default", 0, Infinity).map((change) => change.atMs), [1_002], "the oldest change left the bounded history");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
