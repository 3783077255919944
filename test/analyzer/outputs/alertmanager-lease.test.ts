import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { actionsSection } from "../../../analyzer/actions/config.ts";
import { createSelfHealing } from "../../../analyzer/actions/self-healing.ts";
import { buildApp } from "../../../core/http/app.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { useAlertmanager, type RunningService } from "../../services/index.ts";
import { waitFor, waitForValue } from "../../support/wait-for.ts";
import { analyzerHarness, MINUTE_MS } from "../analyzer-harness.ts";
import { outputsHarness, silentLogger, startReceiver } from "./support.ts";

/** gettableAlert of Alertmanager's API v2, the parts this test reads. */
interface GettableAlert {
  labels: Record<string, string>;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

/** One second between re-sends: leases of four seconds, so an alert outlives several of them within a test. */
const RESEND_MS = 1_000;
const PUBLIC_URL = "http://meshsight.test:8080";

describe("Alertmanager keeps standing alerts active (real Alertmanager)", () => {
  let alertmanager: RunningService;
  before(async () => {
    alertmanager = await useAlertmanager();
  });
  after(async () => {
    await alertmanager.stop();
  });

  async function alertsMatching(filter: string): Promise<GettableAlert[]> {
    const response = await fetch(`${alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent(filter)}`);
    assert.equal(response.status, 200);
    return (await response.json()) as GettableAlert[];
  }

  /**
   * Polls Alertmanager until real time is a second past the first lease's end, failing at once should the alert
   * ever be missing or not active meanwhile; returns the first and the last alert seen.
   */
  async function watchOutliveItsLease(filter: string): Promise<{ first: GettableAlert; firstSeenMs: number; last: GettableAlert }> {
    const first = await waitForValue(async () => (await alertsMatching(filter))[0], `${filter} in Alertmanager`);
    const firstSeenMs = Date.now();
    let last = first;
    await waitFor(
      async () => {
        const [shown] = await alertsMatching(filter);
        assert.equal(shown?.status.state, "active", `${filter} stays active in Alertmanager, lease after lease`);
        last = shown;
        return Date.now() > Date.parse(first.endsAt) + RESEND_MS;
      },
      "a second past the first lease's end",
      15_000,
    );
    return { first, firstSeenMs, last };
  }

  it("an alert firing longer than its silence period stays active, its endsAt advancing, and resolves once", async () => {
    const people = await startReceiver();
    const outputs = await outputsHarness({
      publicUrl: PUBLIC_URL,
      alertmanagerResendIntervalMs: RESEND_MS,
      targets: [
        { name: "am", type: "alertmanager", url: alertmanager.url },
        { name: "people", type: "webhook", url: people.url },
      ],
    });
    // The Alertmanager may be shared with other test files: a unique rule name keeps this alert apart.
    const rule = `sla_low_${randomUUID().slice(0, 8)}`;
    const analyzer = await analyzerHarness({
      // A silence period far longer than the lease: it must throttle only the people's webhook.
      rulesYaml: `rules:\n  - name: ${rule}\n    expression: sla < 95\n    period: 3\n    count: 2\n    silence-period: 30\n`,
      outputs: outputs.outputs,
    });
    await analyzer.start();
    const filter = `alertname="${rule}"`;
    try {
      // Whole minutes an hour ago, so nothing else writes there; rounds run on an injected time.
      const base = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
      for (const index of [0, 1, 2]) await analyzer.writeMinute("web.default", base + index * MINUTE_MS, { calls: 100, errors: 30 });
      const fired = (await analyzer.analyzer.internals.runRound(base + 2 * MINUTE_MS + 30_000)).fired;
      assert.equal(fired.length, 1);

      const { first, firstSeenMs, last } = await watchOutliveItsLease(filter);
      const leaseMs = Date.parse(first.endsAt) - firstSeenMs;
      assert.ok(leaseMs > 0 && leaseMs <= 4 * RESEND_MS, `a lease of 4 re-send intervals, got ${leaseMs} ms left`);
      assert.ok(Date.parse(last.endsAt) > Date.parse(first.endsAt), `endsAt advances: ${first.endsAt} -> ${last.endsAt}`);
      assert.deepEqual(
        people.requests.map((request) => (JSON.parse(request.body) as { change: string }).change),
        ["firing"],
        "the people's webhook heard the firing only: no re-sends, and no reminder within the silence period",
      );

      // generatorURL opens the alert in meshsight's API.
      const app = buildApp({ logger: silentLogger, registry: new Registry(), readinessChecks: [], bodyLimitBytes: 1_000_000, routes: analyzer.analyzer.routes });
      const link = await app.inject({ method: "GET", url: last.generatorURL.slice(PUBLIC_URL.length) });
      assert.equal(link.statusCode, 200, `${last.generatorURL} answers`);
      assert.equal(link.json<{ id: string }>().id, fired[0]!.alert.id);
      await app.close();

      for (const index of [3, 4, 5]) await analyzer.writeMinute("web.default", base + index * MINUTE_MS, { calls: 100 });
      const resolvedAtMs = Date.now();
      assert.equal((await analyzer.analyzer.internals.runRound(base + 5 * MINUTE_MS + 30_000)).resolved.length, 1);
      await waitFor(async () => (await alertsMatching(filter)).length === 0, "the alert to resolve in Alertmanager");
      // Re-sends stop with the alert: it stays resolved over several re-send intervals.
      await waitFor(
        async () => {
          assert.deepEqual(await alertsMatching(filter), [], "a resolved alert is never re-sent as firing");
          return Date.now() > resolvedAtMs + 3 * RESEND_MS;
        },
        "three re-send intervals after the resolution",
      );
      assert.deepEqual(
        people.requests.map((request) => (JSON.parse(request.body) as { change: string }).change),
        ["firing", "resolved"],
      );
    } finally {
      await analyzer.stop();
      await outputs.close();
      await people.close();
    }
  });

  it("a tripped risk guard bucket stays active for as long as the trip stands, links to its bucket, and resolves on reset", async () => {
    const outputs = await outputsHarness({ publicUrl: PUBLIC_URL, alertmanagerResendIntervalMs: RESEND_MS, targets: [{ name: "am", type: "alertmanager", url: alertmanager.url }] });
    const dataDir = mkdtempSync(join(tmpdir(), "meshsight-guard-lease-"));
    const registry = new Registry();
    const healing = createSelfHealing({
      // One delete a minute: the second trips the bucket.
      config: actionsSection.schema.parse({ guard: { windows: { "1m": 1 } } }),
      dataDir,
      logger: silentLogger,
      registry,
      rejects: new RejectCounter(registry, silentLogger),
      outputs: outputs.outputs.dispatcher,
      renewals: outputs.outputs.renewals,
      kubeConfig: null,
    });
    for (const component of healing.components) await component.start();
    // A namespace of its own keeps this bucket apart in a shared Alertmanager.
    const namespace = `ns-${randomUUID().slice(0, 8)}`;
    const key = `delete-pod@namespace/${namespace}`;
    const filter = `bucket="${key}"`;
    const operation = (target: string) => ({ kind: "delete-pod", scopes: [`namespace/${namespace}`], target, who: "test", via: "action" as const, evidence: {} });
    try {
      assert.equal((await healing.internals.guard.admit(operation("pod-a"))).isAllowed, true);
      assert.equal((await healing.internals.guard.admit(operation("pod-b"))).isAllowed, false);

      const { first, last } = await watchOutliveItsLease(filter);
      assert.ok(Date.parse(last.endsAt) > Date.parse(first.endsAt), `endsAt advances: ${first.endsAt} -> ${last.endsAt}`);
      assert.deepEqual(last.labels, { alertname: "risk_guard_tripped", scope: "service", entity: "meshsight-risk-guard", severity: "critical", source: "meshsight-risk-guard", bucket: key, kind: "delete-pod", rule: "token-bucket" });

      const app = buildApp({ logger: silentLogger, registry: new Registry(), readinessChecks: [], bodyLimitBytes: 1_000_000, routes: healing.routes });
      const link = await app.inject({ method: "GET", url: last.generatorURL.slice(PUBLIC_URL.length) });
      assert.equal(link.statusCode, 200, `${last.generatorURL} answers`);
      const { buckets } = link.json<{ buckets: Array<{ key: string; tripped: unknown }> }>();
      assert.deepEqual(buckets.map((bucket) => [bucket.key, bucket.tripped !== null]), [[key, true]]);
      await app.close();

      assert.equal(await healing.internals.guard.reset(key, "alice"), true);
      // The resolved alert carries the firing one's labels, so Alertmanager resolves that very alert.
      await waitFor(async () => (await alertsMatching(filter)).length === 0, "the reset to resolve the alert in Alertmanager");
    } finally {
      for (const component of [...healing.components].reverse()) await component.stop();
      await outputs.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
