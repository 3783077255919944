import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createK8sJobKind } from "../../../prober/kinds/k8s-job/k8s-job-kind.ts";
import { PendingReports } from "../../../prober/kinds/k8s-job/pending-reports.ts";
import { KUBERHEALTHY_REPORT_PATH, registerKuberhealthyReportRoute } from "../../../prober/kinds/k8s-job/report-route.ts";
import { kubeConfigFor } from "../../collector/mesh/k8s/kube-config-for.ts";
import { startFakeBatchApi, type RecordedJob } from "./support/fake-batch-api.ts";
import { contextWithTimeout } from "./support/servers.ts";
import { waitForValue } from "../../support/wait-for.ts";

const envOf = (job: RecordedJob) => Object.fromEntries(job.body.spec.template.spec.containers[0]!.env.map(({ name, value }) => [name, value]));

/** What a checker pod does: POST its verdict to KH_REPORTING_URL with its KH_RUN_UUID. */
function reportAsCheckerPod(job: RecordedJob, body: unknown, uuid?: string): Promise<Response> {
  const env = envOf(job);
  return fetch(env.KH_REPORTING_URL!, { method: "POST", headers: { "content-type": "application/json", "kh-run-uuid": uuid ?? env.KH_RUN_UUID! }, body: JSON.stringify(body) });
}

describe("k8s-job probe kind", () => {
  let api: Awaited<ReturnType<typeof startFakeBatchApi>>;
  let app: FastifyInstance;
  const reports = new PendingReports(4);
  let kind: ReturnType<typeof createK8sJobKind>;

  before(async () => {
    api = await startFakeBatchApi();
    app = Fastify();
    registerKuberhealthyReportRoute(app, reports);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    kind = createK8sJobKind({ kubeConfig: kubeConfigFor(api.url), reportingUrl: `http://127.0.0.1:${port}${KUBERHEALTHY_REPORT_PATH}`, reports, defaultNamespace: "probes" });
  });

  after(async () => {
    await app.close();
    await api.close();
  });

  it("creates the Job with the Kuberhealthy env, passes on an OK report, and deletes the Job", async () => {
    const before = api.created.length;
    const started = Date.now();
    const running = kind.run(kind.parseSpec({ image: "ghcr.io/example/check:1", env: { MODE: "deep" } }), "checkout.default", { ...contextWithTimeout(30_000), signal: new AbortController().signal });
    const job = await waitForValue(() => api.created[before], "the Job to be created", 5_000);
    assert.equal(job.namespace, "probes");
    assert.equal(job.body.spec.backoffLimit, 0);
    assert.equal(job.body.spec.template.spec.restartPolicy, "Never");
    assert.equal(job.body.spec.template.spec.containers[0]!.image, "ghcr.io/example/check:1");
    const env = envOf(job);
    assert.equal(env.MODE, "deep");
    assert.equal(env.MESHSIGHT_TARGET, "checkout.default");
    assert.equal(env.KH_POD_NAMESPACE, "probes");
    assert.match(env.KH_RUN_UUID!, /^[0-9a-f-]{36}$/);
    assert.equal(job.body.metadata.labels["kh-run-uuid"], env.KH_RUN_UUID);
    const deadline = Number(env.KH_CHECK_RUN_DEADLINE);
    assert.ok(Math.abs(deadline - (started + 30_000) / 1000) < 5, `deadline ${deadline}`);
    const reply = await reportAsCheckerPod(job, { ok: true, errors: [] });
    assert.equal(reply.status, 200);
    const outcome = await running;
    assert.equal(outcome.status, "success", outcome.message);
    assert.deepEqual(api.deleted.at(-1), { namespace: "probes", name: job.body.metadata.name, propagationPolicy: "Background" });
    assert.equal((await reportAsCheckerPod(job, { OK: true, Errors: [] })).status, 410, "a second report is late");
    assert.equal(reports.size, 0);
  });

  it("fails with the errors the checker reported", async () => {
    const before = api.created.length;
    const running = kind.run(kind.parseSpec({ image: "check", namespace: "team-a" }), "db", { ...contextWithTimeout(30_000), signal: new AbortController().signal });
    const job = await waitForValue(() => api.created[before], "the Job to be created", 5_000);
    assert.equal(job.namespace, "team-a");
    assert.equal((await reportAsCheckerPod(job, { OK: false, Errors: ["dns lookup of kubernetes.default failed: timeout", "second"] })).status, 200);
    const outcome = await running;
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, "the checker reported: dns lookup of kubernetes.default failed: timeout; second");
    assert.equal(api.deleted.at(-1)?.name, job.body.metadata.name);
  });

  it("times out without a report, still deleting the Job, and answers 410 to the late report", async () => {
    const before = api.created.length;
    const deletesBefore = api.deleted.length;
    const outcome = await kind.run(kind.parseSpec({ image: "check" }), "db", { ...contextWithTimeout(300), signal: new AbortController().signal });
    assert.equal(outcome.status, "timeout");
    const job = api.created[before]!;
    assert.match(outcome.message, new RegExp(`^no report from Job probes/${job.body.metadata.name} within 300ms`));
    assert.equal(api.deleted.length, deletesBefore + 1);
    assert.equal((await reportAsCheckerPod(job, { OK: true, Errors: [] })).status, 410);
  });

  it("stops when the runner aborts, deleting the Job", async () => {
    const before = api.created.length;
    const controller = new AbortController();
    const running = kind.run(kind.parseSpec({ image: "check" }), "db", { ...contextWithTimeout(60_000), signal: controller.signal });
    const job = await waitForValue(() => api.created[before], "the Job to be created", 5_000);
    controller.abort();
    const outcome = await running;
    assert.equal(outcome.status, "timeout");
    assert.equal(api.deleted.at(-1)?.name, job.body.metadata.name);
  });

  it("reports an API refusal as an error naming the cause", async () => {
    const deletesBefore = api.deleted.length;
    const outcome = await kind.run(kind.parseSpec({ image: "check", namespace: "forbidden" }), "db", { ...contextWithTimeout(5_000), signal: new AbortController().signal });
    assert.equal(outcome.status, "error");
    assert.match(outcome.message, /^creating Job forbidden\/meshsight-check-\S+ failed: HTTP 403: .*cannot create resource "jobs"/);
    assert.equal(api.deleted.length, deletesBefore, "nothing was created, so nothing to delete");
    assert.equal(reports.size, 0);
  });

  it("refuses bad reports the way Kuberhealthy does", async () => {
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${KUBERHEALTHY_REPORT_PATH}`;
    const post = (headers: Record<string, string>, body: string) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    assert.equal((await post({}, '{"OK":true,"Errors":[]}')).status, 400, "no uuid");
    assert.equal((await post({ "kh-run-uuid": "nobody" }, '{"OK":true,"Errors":[]}')).status, 400, "unknown uuid");
    assert.equal((await post({ "kh-run-uuid": "x" }, "{not json")).status, 400, "not JSON");
    assert.equal((await fetch(url)).status, 405);
    const before = api.created.length;
    const running = kind.run(kind.parseSpec({ image: "check" }), "db", { ...contextWithTimeout(30_000), signal: new AbortController().signal });
    const job = await waitForValue(() => api.created[before], "the Job to be created", 5_000);
    const uuid = envOf(job).KH_RUN_UUID!;
    const contradicting = await post({ "kh-run-uuid": uuid }, '{"OK":true,"Errors":["but broken"]}');
    assert.equal(contradicting.status, 400);
    assert.equal(await contradicting.text(), "OK is true but Errors is not empty");
    assert.equal((await post({ "kh-run-uuid": uuid }, '{"OK":false,"Errors":[]}')).status, 400);
    assert.equal((await post({ "kh-run-uuid": uuid }, '{"ok":true,"errors":[]}')).status, 200, "keys match case-insensitively");
    assert.equal((await running).status, "success");
  });

  it("keeps the waiting runs bounded", async () => {
    const small = new PendingReports(1);
    const waiting = small.expect("a", Date.now() + 10_000);
    assert.throws(() => small.expect("b", Date.now() + 10_000), /1 k8s-job runs already wait for reports/);
    assert.equal(small.deliver("a", { ok: true, errors: [] }), "accepted");
    assert.deepEqual(await waiting, { ok: true, errors: [] });
    assert.equal(small.deliver("a", { ok: true, errors: [] }), "late");
  });

  it("refuses specs naming the field", () => {
    assert.throws(() => kind.parseSpec({}), /^InvalidProbeSpecError: image: /);
    assert.throws(() => kind.parseSpec({ image: "x", env: { KH_RUN_UUID: "mine" } }), /^InvalidProbeSpecError: env\.KH_RUN_UUID: set by meshsight/);
    assert.throws(() => kind.parseSpec({ image: "x", namespace: "Bad_NS" }), /^InvalidProbeSpecError: namespace: /);
  });
});
