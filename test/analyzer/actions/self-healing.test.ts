import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Registry } from "prom-client";
import { buildApp } from "../../../core/http/app.ts";
import { createApiAuth, sha256Hex } from "../../../core/http/auth.ts";
import { podObject } from "../../collector/mesh/k8s/fake-kube-api.ts";
import { ManualClock, silentLogger, tempDir } from "../guard/support.ts";
import { nodeObject, startFakeKubeMutations } from "./support/fake-kube-mutations.ts";
import { reviewsPodAlert, startSelfHealing } from "./support/self-healing-harness.ts";

const REVIEWS_PODS = ["reviews-v1-d66dcfdc5-kh6v7", "reviews-v2-7b8f6d9c5-qz2lp", "reviews-v3-5c9f4b7d8-x8mwn"];
const restartBadPod = (mode: string) => ({ actions: [{ name: "restart-bad-pod", kind: "delete-pod", mode, rules: ["service_sla_low"], rootCause: "instance" }] });
const reviewsPods = () => REVIEWS_PODS.map((name, index) => podObject({ name, namespace: "default", ip: `10.0.0.${index + 10}`, labels: { app: "reviews" } }));

describe("self-healing actions on the stand-in Kubernetes API", () => {
  const dirs: Array<{ remove: () => void }> = [];
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    dirs.forEach((dir) => dir.remove());
  });
  const setUp = async (config: Record<string, unknown>, initial: Parameters<typeof startFakeKubeMutations>[0], clock?: ManualClock) => {
    const dir = tempDir();
    dirs.push(dir);
    const api = await startFakeKubeMutations(initial);
    closers.push(api.close);
    const started = await startSelfHealing({ dataDir: dir.path, kubeUrl: api.url, config, ...(clock ? { clock } : {}) });
    closers.push(started.stop);
    return { api, ...started };
  };

  it("auto: a firing alert whose root cause names one reviews pod deletes exactly that pod", async () => {
    const { api, healing } = await setUp(restartBadPod("auto"), { pods: reviewsPods() });
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert(), change: "firing", outputs: [] });
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert(), change: "repeat", outputs: [] });
    await healing.internals.runner.flush();
    assert.deepEqual(api.calls.map((call) => `${call.method} ${call.path}`), ["DELETE /api/v1/namespaces/default/pods/reviews-v2-7b8f6d9c5-qz2lp"]);
    assert.deepEqual([...api.pods.keys()].sort(), ["default/reviews-v1-d66dcfdc5-kh6v7", "default/reviews-v3-5c9f4b7d8-x8mwn"]);
    const [record] = healing.internals.book.list(Date.now(), { limit: 10 });
    assert.equal(record?.status, "done");
    assert.equal(record?.detail, "deleted pod default/reviews-v2-7b8f6d9c5-qz2lp");
    assert.equal(record?.alertId, "alert-1");
    const audit = healing.internals.audit.recent(10);
    assert.equal(audit[0]?.decision, "allowed");
    assert.deepEqual(audit[0]?.keys, ["delete-pod@namespace/default", "delete-pod@cluster"]);
    // A second firing of the same alert acts no more.
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert(), change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(api.calls.length, 1);
  });

  it("never acts on a service meshsight could not identify: the record says why and the API sees no call", async () => {
    const scaleUp = { actions: [{ name: "scale-up", kind: "scale-workload", mode: "auto", replicasDelta: 1, maxReplicas: 5 }] };
    const { api, healing } = await setUp(scaleUp, { pods: reviewsPods() });
    const fromUnknown = { ...reviewsPodAlert("from-unknown"), scope: "relation" as const, entity: "UNKNOWN to productpage.default", labels: { service: "UNKNOWN" }, rootCause: null };
    const causeUnknown = { ...reviewsPodAlert("cause-unknown"), rootCause: { service: "UNKNOWN", instance: "", score: 0.9, reason: "errors up", evidence: [] } };
    await healing.dispatcher.dispatch({ alert: fromUnknown, change: "firing", outputs: [] });
    await healing.dispatcher.dispatch({ alert: causeUnknown, change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(api.calls.length, 0);
    const records = healing.internals.book.list(Date.now(), { limit: 10 });
    assert.deepEqual(records.map((record) => [record.alertId, record.status, record.detail]).sort(), [
      ["cause-unknown", "skipped", "meshsight could not identify the service (UNKNOWN); no action targets it"],
      ["from-unknown", "skipped", "meshsight could not identify the service (UNKNOWN); no action targets it"],
    ]);
  });

  it("one incident, one action: alerts of one incident on one target run it once, the rest are recorded as deduplicated", async () => {
    const { api, healing } = await setUp(restartBadPod("auto"), { pods: reviewsPods() });
    const inIncident = (id: string, incidentId: string) => ({ ...reviewsPodAlert(id), incidentId });
    await healing.dispatcher.dispatch({ alert: inIncident("on-productpage", "inc-1"), change: "firing", outputs: [] });
    await healing.dispatcher.dispatch({ alert: inIncident("on-reviews", "inc-1"), change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.deepEqual(api.calls.map((call) => `${call.method} ${call.path}`), ["DELETE /api/v1/namespaces/default/pods/reviews-v2-7b8f6d9c5-qz2lp"]);
    const records = healing.internals.book.list(Date.now(), { limit: 10 });
    const done = records.find((record) => record.alertId === "on-productpage");
    const deduplicated = records.find((record) => record.alertId === "on-reviews");
    assert.equal(records.length, 2);
    assert.equal(done?.status, "done");
    assert.equal(deduplicated?.status, "deduplicated");
    assert.equal(deduplicated?.detail, `incident inc-1 already has this action on default/reviews-v2-7b8f6d9c5-qz2lp (action ${done?.id ?? ""})`);
  });

  it("dry-run: nothing is deleted and the record says what would have been", async () => {
    const { api, healing } = await setUp(restartBadPod("dry-run"), { pods: reviewsPods() });
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert(), change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(api.calls.length, 0);
    assert.equal(api.pods.size, 3);
    const [record] = healing.internals.book.list(Date.now(), { limit: 10 });
    assert.equal(record?.status, "dry-run");
    assert.equal(record?.detail, "dry-run: would delete pod reviews-v2-7b8f6d9c5-qz2lp in namespace default; nothing was done");
    assert.deepEqual(record?.target, { kind: "delete-pod", namespace: "default", pod: "reviews-v2-7b8f6d9c5-qz2lp", service: "reviews.default" });
  });

  it("blast radius: a second reviews pod within the settle time is refused (1 of 3 pods at once)", async () => {
    const { api, healing } = await setUp(restartBadPod("auto"), { pods: reviewsPods() });
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert("a"), change: "firing", outputs: [] });
    const other = reviewsPodAlert("b");
    other.rootCause = { ...other.rootCause!, instance: "reviews-v3-5c9f4b7d8-x8mwn.default" };
    await healing.dispatcher.dispatch({ alert: other, change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(api.calls.length, 1);
    const statuses = healing.internals.book.list(Date.now(), { limit: 10 }).map((record) => [record.status, record.detail]);
    assert.equal(statuses[0]?.[0], "refused");
    assert.match(statuses[0]?.[1] ?? "", /blast-radius.*service\/reviews\.default: 1 of 2 members/);
  });

  it("300 nodes unhealthy at once: the sanity brake refuses mass cordoning and raises one alert", async () => {
    const nodes = Array.from({ length: 300 }, (_, index) => nodeObject(`node-${index}`, { "node-pool": "general" }));
    const { api, healing, outputs } = await setUp({ actions: [{ name: "cordon-unhealthy-node", kind: "cordon-node", mode: "auto", rules: ["node_not_ready"] }] }, { nodes });
    for (let index = 0; index < 300; index++) {
      const alert = { ...reviewsPodAlert(`node-alert-${index}`), rule: "node_not_ready", rootCause: null, labels: { node: `node-${index}` } };
      await healing.dispatcher.dispatch({ alert, change: "firing", outputs: [] });
    }
    await healing.internals.runner.flush();
    assert.deepEqual(api.calls.filter((call) => call.method === "PATCH"), [], "no node was cordoned");
    const records = healing.internals.book.list(Date.now(), { limit: 1_000 });
    assert.equal(records.length, 300);
    assert.ok(records.every((record) => record.status === "refused" && /sanity brake: 300 cordon-node targets at once is above the sanity limit of 30 \(fleet of 300\)/.test(record.detail)));
    const firing = outputs.received.filter((notification) => notification.change === "firing");
    assert.equal(firing.length, 1, "one alert, not 300");
    assert.equal(firing[0]?.alert.id, "risk-guard:cordon-node@sanity-brake");
    assert.match(firing[0]?.alert.message ?? "", /sanity brake engaged for cordon-node/);
    // The brake holds for later requests until an operator resets it.
    await healing.dispatcher.dispatch({ alert: { ...reviewsPodAlert("late"), rule: "node_not_ready", rootCause: null, labels: { node: "node-1" } }, change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(healing.internals.book.list(Date.now(), { limit: 1 })[0]?.status, "refused");
    assert.equal(await healing.internals.guard.reset("cordon-node@sanity-brake", "alice"), true);
    await healing.dispatcher.dispatch({ alert: { ...reviewsPodAlert("after-reset"), rule: "node_not_ready", rootCause: null, labels: { node: "node-2" } }, change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.deepEqual(api.calls.map((call) => [call.method, call.path, call.contentType, call.body]), [["PATCH", "/api/v1/nodes/node-2", "application/merge-patch+json", { spec: { unschedulable: true } }]]);
  });

  it("approval: waits for POST /api/v1/actions/:id/approve, and refuses once expired", async () => {
    const clock = new ManualClock();
    const { api, healing } = await setUp({ ...restartBadPod("approval"), approvalTtlMs: 60_000 }, { pods: reviewsPods() }, clock);
    // The real app: the principal comes from the bearer token through core/http/auth.ts.
    const token = "approver-token";
    const auth = createApiAuth({ tokens: [{ name: "alice", sha256: sha256Hex(token), scopes: ["actions:write"] }], readApisOpen: true, protectIngest: false }, silentLogger);
    const app = buildApp({ logger: silentLogger, registry: new Registry(), readinessChecks: [], bodyLimitBytes: 1_000_000, routes: healing.routes, authorize: auth.authorize });
    const authorization = { authorization: `Bearer ${token}` };
    await healing.dispatcher.dispatch({ alert: reviewsPodAlert("first"), change: "firing", outputs: [] });
    await healing.dispatcher.dispatch({ alert: { ...reviewsPodAlert("second"), rootCause: { ...reviewsPodAlert().rootCause!, instance: "reviews-v1-d66dcfdc5-kh6v7.default" } }, change: "firing", outputs: [] });
    await healing.internals.runner.flush();
    assert.equal(api.calls.length, 0, "nothing happens before approval");
    const pending = (await app.inject({ url: "/api/v1/actions?status=awaiting-approval" })).json<Array<{ id: string; alertId: string; expiresAt: string }>>();
    assert.equal(pending.length, 2);
    const first = pending.find((record) => record.alertId === "first")!;
    assert.equal(first.expiresAt, new Date(clock.nowMs + 60_000).toISOString());
    assert.equal((await app.inject({ method: "POST", url: `/api/v1/actions/${first.id}/approve` })).statusCode, 401, "approving needs a token");
    const approved = await app.inject({ method: "POST", url: `/api/v1/actions/${first.id}/approve`, headers: authorization });
    assert.equal(approved.statusCode, 200);
    assert.equal(approved.json<{ status: string; approvedBy: string }>().status, "done");
    assert.equal(approved.json<{ approvedBy: string }>().approvedBy, "alice");
    assert.deepEqual(api.calls.map((call) => call.path), ["/api/v1/namespaces/default/pods/reviews-v2-7b8f6d9c5-qz2lp"]);
    clock.advance(60_000);
    const second = pending.find((record) => record.alertId === "second")!;
    const late = await app.inject({ method: "POST", url: `/api/v1/actions/${second.id}/approve`, headers: authorization });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json<{ error: { code: string } }>().error.code, "MS_ACTION_NOT_APPROVABLE");
    assert.match(late.json<{ error: { message: string } }>().error.message, /is expired, not awaiting approval \(nobody approved it before/);
    assert.equal((await app.inject({ method: "POST", url: "/api/v1/actions/nope/approve", headers: authorization })).statusCode, 404);
    assert.equal(api.calls.length, 1);
    await app.close();
  });
});
