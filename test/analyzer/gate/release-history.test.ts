import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AuditLog, type AuditRecord } from "../../../analyzer/gate/audit-log.ts";
import { GateCatalog } from "../../../analyzer/gate/gate-catalog.ts";
import { parseGate } from "../../../analyzer/gate/gate-definition.ts";
import { releaseHistory } from "../../../analyzer/gate/release-history.ts";
import { openFileState } from "../../../core/state/state-stores.ts";
import { silentLogger } from "../../prober/helpers.ts";

/** The release history the analysis cites: the audited acts on the gates of one service, from the real audit log. */
void describe("release history of a service", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "meshsight-release-history-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it("lists the acts on the service's gates within the range, oldest first, with Flagger's phase and the verdict", async () => {
    const store = openFileState()("gates", { file: join(dir, "gates.json") });
    await store.start();
    const catalog = new GateCatalog(store, 10, silentLogger);
    await catalog.load([parseGate({ name: "reviews-canary", service: "reviews.default", window: "5m" }, "test"), parseGate({ name: "ratings-canary", service: "ratings.default", window: "5m" }, "test")]);
    const audit = new AuditLog({ file: join(dir, "gate-audit.jsonl"), maxBytes: 1_000_000, maxPending: 100, recentLimit: 100 });
    await audit.start();
    const act = (gate: string, atMs: number, rest: Partial<AuditRecord>): Promise<void> => audit.record({ atMs, who: "ci-pipeline", action: "check", gate, via: "api", evidence: {}, ...rest });
    await act("reviews-canary", 999, { evidence: { verdict: "pass" } });
    await act("reviews-canary", 1_000, { via: "flagger", evidence: { verdict: "pass", flagger: { name: "reviews", namespace: "default", phase: "Progressing" } } });
    await act("ratings-canary", 1_500, { evidence: { verdict: "fail" } });
    await act("reviews-canary", 2_000, { action: "override.open", who: "release-manager", evidence: { reason: "hotfix" } });
    await act("deleted-canary", 2_500, { evidence: { verdict: "pass" } });
    await act("reviews-canary", 3_001, { via: "argo", evidence: { verdict: "fail" } });

    const history = await releaseHistory(audit, catalog)("reviews.default", 1_000, 3_000);
    assert.deepEqual(history, [
      { gate: "reviews-canary", action: "check", via: "flagger", who: "ci-pipeline", atMs: 1_000, verdict: "pass", phase: "Progressing" },
      { gate: "reviews-canary", action: "override.open", via: "api", who: "release-manager", atMs: 2_000, verdict: "", phase: "" },
    ]);
    assert.deepEqual(await releaseHistory(audit, catalog)("details.default", 0, 10_000), [], "no gate guards details");
    await audit.stop();
    await store.stop();
  });
});
