import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createAnalysis, type Analysis } from "../../../analyzer/analysis.ts";
import { fanOutDispatcher } from "../../../analyzer/alerts/notification.ts";
import { analyzerSection } from "../../../analyzer/config.ts";
import { loadAlsProtocol } from "../../../collector/simulator/als-protocol.ts";
import { buildBookinfoPods } from "../../../collector/simulator/bookinfo-mesh.ts";
import type { BookinfoFault } from "../../../collector/simulator/bookinfo-traffic.ts";
import { simulateBookinfo } from "../../../collector/simulator/simulate-bookinfo.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";
import { podObject } from "../../collector/mesh/k8s/fake-kube-api.ts";
import { startTestCollector, type TestCollector } from "../../support/test-collector.ts";
import { waitFor } from "../../support/wait-for.ts";
import { logger, MINUTE_MS, RecordingDispatcher } from "../analyzer-harness.ts";
import { tempDir } from "../guard/support.ts";
import { startFakeKubeMutations } from "./support/fake-kube-mutations.ts";
import { startSelfHealing } from "./support/self-healing-harness.ts";

/**
 * The end-to-end case: the simulator takes one reviews pod down (its callers see 503 UH for the
 * calls routed to it); the real analyzer, over what a real collector stored, fires with a root cause
 * naming that pod; a self-healing module in auto mode deletes exactly that pod on the stand-in Kubernetes
 * API, and one in dry-run mode, given the same notifications, deletes nothing and records what it would
 * have done.
 */

const ROUND_MS = 150;
const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const RESTART_BAD_POD = (mode: string) => ({ actions: [{ name: "restart-bad-pod", kind: "delete-pod", mode, rootCause: "instance" }] });

describe("self-healing end to end: a reviews pod fails, the analyzer names it, the auto action deletes it", () => {
  const minuteNow = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const at = (minutesAgo: number): number => minuteNow - minutesAgo * MINUTE_MS;
  const pods = buildBookinfoPods();
  const badPod = pods.find((pod) => pod.service === "reviews" && pod.name.startsWith("reviews-v2-"));
  assert.ok(badPod, "the simulated mesh has a reviews-v2 pod");
  const kubePods = () => pods.filter((pod) => pod.namespace === "default").map((pod) => podObject({ name: pod.name, namespace: pod.namespace, ip: pod.ip, labels: { app: pod.service } }));
  const dir = tempDir();
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  const closers: Array<() => Promise<void>> = [];
  const recorded = new RecordingDispatcher();
  let collector: TestCollector;
  let analyzer: Analysis;
  let auto: Awaited<ReturnType<typeof startSelfHealing>>;
  let dryRun: Awaited<ReturnType<typeof startSelfHealing>>;
  let autoApi: Awaited<ReturnType<typeof startFakeKubeMutations>>;
  let dryRunApi: Awaited<ReturnType<typeof startFakeKubeMutations>>;

  const play = async (startTimeMs: number, minutes: number, faults: readonly BookinfoFault[], seed: number): Promise<number> => {
    const report = await simulateBookinfo({ target: collector.alsTarget, requests: minutes * 40, startTimeMs, durationMs: minutes * MINUTE_MS, faults, protocol: loadAlsProtocol(), seed });
    assert.deepEqual(report.streamErrors, []);
    return report.services["productpage.default"]?.calls ?? 0;
  };

  before(async () => {
    await storage.start();
    closers.push(() => storage.close());
    collector = await startTestCollector({ storage, logger, settings: { latenessSeconds: 3_600 } });
    closers.push(() => collector.stop());
    autoApi = await startFakeKubeMutations({ pods: kubePods() });
    dryRunApi = await startFakeKubeMutations({ pods: kubePods() });
    closers.push(autoApi.close, dryRunApi.close);
    auto = await startSelfHealing({ dataDir: `${dir.path}/auto`, kubeUrl: autoApi.url, config: RESTART_BAD_POD("auto") });
    dryRun = await startSelfHealing({ dataDir: `${dir.path}/dry-run`, kubeUrl: dryRunApi.url, config: RESTART_BAD_POD("dry-run") });
    closers.push(auto.stop, dryRun.stop);
    const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
    analyzer = createAnalysis({
      config: analyzerSection.schema.parse({ intervalMs: ROUND_MS }),
      dataDir: dir.path,
      reader: storage,
      dispatcher: fanOutDispatcher([recorded, auto.healing.dispatcher, dryRun.healing.dispatcher], (error) => assert.fail(String(error))),
      registry,
      logger,
      now: () => at(3),
    });
  });

  after(async () => {
    for (const component of [...analyzer.components].reverse()) await component.stop();
    for (const close of closers.reverse()) await close();
    dir.remove();
  });

  it("deletes exactly the failing pod in auto mode, and only records it in dry-run mode", async () => {
    const expected = (await play(at(15), 7, [], 1)) + (await play(at(8), 5, [{ kind: "pod-down", pod: badPod.name }], 2));
    await waitFor(async () => {
      const rows = await storage.queryMetrics({ scope: "service", service: "productpage.default", fromMs: at(30), toMs: at(0), resolution: "minute", groupByTime: false });
      return rows.reduce((total, row) => total + row.calls, 0) === expected;
    }, "the collector to store all traffic", 20_000);

    for (const component of analyzer.components) await component.start();
    const badInstance = `${badPod.name}.${badPod.namespace}`;
    await waitFor(() => recorded.sent.some((each) => each.change === "firing" && each.alert.rootCause?.instance === badInstance), `a firing alert whose root cause names ${badInstance}`, 20_000, () => JSON.stringify(recorded.sent.map((each) => [each.change, each.alert.rule, each.alert.entity, each.alert.rootCause?.service, each.alert.rootCause?.instance, each.alert.rootCause?.reason])));

    await auto.healing.internals.runner.flush();
    await dryRun.healing.internals.runner.flush();
    assert.deepEqual(autoApi.calls.map((call) => `${call.method} ${call.path}`), [`DELETE /api/v1/namespaces/default/pods/${badPod.name}`]);
    assert.ok(!autoApi.pods.has(`default/${badPod.name}`), "the failing pod is gone");
    assert.equal(autoApi.pods.size, kubePods().length - 1, "no other pod was touched");

    assert.deepEqual(dryRunApi.calls, [], "dry-run changes nothing");
    const records = dryRun.healing.internals.book.list(Date.now(), { limit: 10 });
    assert.ok(records.length > 0 && records.every((record) => record.status === "dry-run"), JSON.stringify(records.map((record) => record.status)));
    assert.match(records[0]?.detail ?? "", new RegExp(`would delete pod ${badPod.name} in namespace default; nothing was done`));
  });
});
