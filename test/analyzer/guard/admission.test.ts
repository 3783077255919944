import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { ADMISSION_PATH, AdmissionServer } from "../../../analyzer/guard/admission-server.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { generateCertificates } from "../../prober/kinds/support/certificates.ts";
import { ManualClock, silentLogger, startGuard, tempDir, type GuardHarness } from "./support.ts";

/** A DELETE review exactly as kube-apiserver sends it (admission.k8s.io/v1, oldObject set, object null). */
function deleteReview(options: { uid: string; resource: string; kind: string; name: string; namespace?: string; username?: string; groups?: string[]; dryRun?: boolean; labels?: Record<string, string> }) {
  const group = { group: "", version: "v1", resource: options.resource };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid,
      kind: { group: "", version: "v1", kind: options.kind },
      resource: group,
      requestKind: { group: "", version: "v1", kind: options.kind },
      requestResource: group,
      name: options.name,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      operation: "DELETE",
      userInfo: { username: options.username ?? "jane@example.com", uid: "0b0f7a4e-1c3d-4f0e-9d61-0e5f6c1b2a11", groups: options.groups ?? ["system:authenticated"] },
      object: null,
      oldObject: {
        apiVersion: "v1",
        kind: options.kind,
        metadata: { name: options.name, ...(options.namespace === undefined ? {} : { namespace: options.namespace }), uid: `uid-${options.name}`, resourceVersion: "4711", labels: options.labels ?? {} },
      },
      dryRun: options.dryRun ?? false,
      options: { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1", propagationPolicy: "Background" },
    },
  };
}

interface Reply {
  status: number;
  body: { response?: { uid: string; allowed: boolean; status?: { code: number; message: string } }; message?: string };
}

describe("admission webhook (AdmissionReview v1 over HTTPS)", () => {
  const certificates = generateCertificates();
  const dir = tempDir();
  let harness: GuardHarness;
  let server: AdmissionServer;
  const registry = new Registry();

  const post = (body: string | object, path = ADMISSION_PATH): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const outgoing = request({ host: "127.0.0.1", port: server.port(), path, method: "POST", ca: certificates.valid.certPem, headers: { "content-type": "application/json" } }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Reply["body"] }));
      });
      outgoing.on("error", reject);
      outgoing.end(text);
    });

  before(async () => {
    writeFileSync(join(dir.path, "tls.crt"), certificates.valid.certPem);
    writeFileSync(join(dir.path, "tls.key"), certificates.valid.keyPem);
    harness = await startGuard({ dir: dir.path, clock: new ManualClock(), config: { windows: { "1m": 2, "1h": 10 } } });
    server = new AdmissionServer({
      host: "127.0.0.1",
      port: 0,
      certFile: join(dir.path, "tls.crt"),
      keyFile: join(dir.path, "tls.key"),
      allow: { users: ["cluster-admin-breakglass"], serviceAccounts: ["kube-system:namespace-controller"], groups: ["sre-oncall"] },
      nodePoolLabel: "node-pool",
      guard: harness.guard,
      rejects: new RejectCounter(registry, silentLogger),
      logger: silentLogger,
    });
    await server.start();
  });

  after(async () => {
    await server.stop();
    await harness.stop();
    dir.remove();
  });

  it("allows deletes within the buckets, then denies with a message that says why and what to do", async () => {
    const first = await post(deleteReview({ uid: "u-1", resource: "pods", kind: "Pod", name: "reviews-v2-7b8f6d9c5-qz2lp", namespace: "default" }));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u-1", allowed: true } });
    assert.equal((await post(deleteReview({ uid: "u-2", resource: "pods", kind: "Pod", name: "p2", namespace: "default" }))).body.response?.allowed, true);
    const denied = await post(deleteReview({ uid: "u-3", resource: "pods", kind: "Pod", name: "p3", namespace: "default" }));
    assert.equal(denied.body.response?.uid, "u-3");
    assert.equal(denied.body.response?.allowed, false);
    assert.equal(denied.body.response?.status?.code, 429);
    assert.match(denied.body.response?.status?.message ?? "", /^meshsight risk guard denied DELETE pods default\/p3 by jane@example\.com: delete-pod@namespace\/default has no token left in its 1m window .*reset the guard/);
    const afterTrip = await post(deleteReview({ uid: "u-4", resource: "pods", kind: "Pod", name: "p4", namespace: "default" }));
    assert.equal(afterTrip.body.response?.status?.code, 403, "tripped: a standing refusal");
  });

  it("lets allow-listed users, service accounts and groups through, audited, without spending", async () => {
    for (const [uid, username, groups] of [
      ["a-1", "cluster-admin-breakglass", []],
      ["a-2", "system:serviceaccount:kube-system:namespace-controller", ["system:serviceaccounts"]],
      ["a-3", "bob", ["system:authenticated", "sre-oncall"]],
    ] as const) {
      const reply = await post(deleteReview({ uid, resource: "pods", kind: "Pod", name: "p5", namespace: "default", username, groups: [...groups] }));
      assert.equal(reply.body.response?.allowed, true, username);
    }
    const audit = harness.audit.recent(3);
    assert.ok(audit.every((record) => record.decision === "allowed" && record.via === "admission"));
    assert.match(audit[0]?.reason ?? "", /group sre-oncall is allow-listed/);
  });

  it("judges nodes per pool, passes other operations and resources, and never spends on dry runs", async () => {
    const node = (uid: string, name: string, dryRun = false) => deleteReview({ uid, resource: "nodes", kind: "Node", name, labels: { "node-pool": "gpu" }, dryRun });
    assert.equal((await post(node("n-0", "gpu-0", true))).body.response?.allowed, true);
    assert.equal((await post(node("n-1", "gpu-1"))).body.response?.allowed, true);
    assert.equal((await post(node("n-2", "gpu-2"))).body.response?.allowed, true);
    const third = await post(node("n-3", "gpu-3"));
    assert.match(third.body.response?.status?.message ?? "", /delete-node@pool\/gpu has no token left/);
    const configMap = deleteReview({ uid: "c-1", resource: "configmaps", kind: "ConfigMap", name: "settings", namespace: "default" });
    assert.equal((await post(configMap)).body.response?.allowed, true);
    const create = deleteReview({ uid: "c-2", resource: "pods", kind: "Pod", name: "p", namespace: "default" });
    create.request.operation = "CREATE";
    assert.equal((await post(create)).body.response?.allowed, true);
  });

  it("answers malformed reviews with a clear error and keeps serving", async () => {
    const notJson = await post("{not json");
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.message ?? "", /malformed AdmissionReview: the body is not JSON/);
    const v1beta1 = { ...deleteReview({ uid: "m-1", resource: "pods", kind: "Pod", name: "p", namespace: "default" }), apiVersion: "admission.k8s.io/v1beta1" };
    const old = await post(v1beta1);
    assert.equal(old.status, 200, "with a uid the answer is still a review the API server reads");
    assert.equal(old.body.response?.allowed, false);
    assert.equal(old.body.response?.status?.code, 400);
    assert.match(old.body.response?.status?.message ?? "", /expected apiVersion admission\.k8s\.io\/v1, got "admission\.k8s\.io\/v1beta1"/);
    const noRequest = await post({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" });
    assert.equal(noRequest.status, 400);
    assert.match(noRequest.body.message ?? "", /the review has no request object/);
    const noOperation = deleteReview({ uid: "m-2", resource: "pods", kind: "Pod", name: "p", namespace: "default" }) as { request: Record<string, unknown> };
    delete noOperation.request.operation;
    assert.match((await post(noOperation)).body.response?.status?.message ?? "", /request\.operation is missing/);
    assert.equal((await post([1, 2, 3])).status, 400);
    assert.equal((await post({}, "/other")).status, 404);
    const rejects = await registry.getSingleMetric("meshsight_rejected_total")?.get();
    assert.equal(rejects?.values.find((value) => value.labels.reason === "malformed_review")?.value, 5);
    assert.equal((await post(deleteReview({ uid: "ok", resource: "services", kind: "Service", name: "s", namespace: "default" }))).body.response?.allowed, true, "still serving");
  });
});
