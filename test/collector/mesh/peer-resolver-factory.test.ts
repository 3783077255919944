import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createPeerResolver, type PeerResolverInputs } from "../../../collector/mesh/peer-resolver-factory.ts";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { FakeKubeApi, podObject } from "./k8s/fake-kube-api.ts";
import { kubeConfigFor } from "./k8s/kube-config-for.ts";

let dir = "";
let mappingFile = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "meshsight-factory-"));
  mappingFile = join(dir, "peers.yaml");
  await writeFile(mappingFile, "peers:\n  - cidr: 10.1.0.0/16\n    service: legacy.prod\n");
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function inputs(overrides: Partial<PeerResolverInputs>): { inputs: PeerResolverInputs; logs: string[] } {
  const logs: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
  return {
    logs,
    inputs: {
      kubernetes: "off",
      staticMappingFile: "",
      logger,
      rejects: new RejectCounter(new Registry(), logger),
      ...overrides,
    },
  };
}

void test("without Kubernetes or a mapping file there is no peer source", async () => {
  const resolver = await createPeerResolver(inputs({}).inputs);
  assert.equal(resolver.kind, "none");
  assert.equal(resolver.byIp("10.1.2.3"), null);
});

void test("a mapping file is used when Kubernetes is off or has no configuration", async () => {
  const off = await createPeerResolver(inputs({ staticMappingFile: mappingFile }).inputs);
  assert.equal(off.kind, "static");
  assert.equal(off.byIp("10.1.2.3")?.service, "legacy.prod");
  const noConfig = await createPeerResolver(inputs({ kubernetes: "auto", staticMappingFile: mappingFile, loadKubeConfig: () => null }).inputs);
  assert.equal(noConfig.kind, "static");
});

void test("a failing Kubernetes configuration falls back and says why", async () => {
  const { inputs: failing, logs } = inputs({
    kubernetes: "auto",
    loadKubeConfig: () => {
      throw new Error("invalid kubeconfig: no users");
    },
  });
  const resolver = await createPeerResolver(failing);
  assert.equal(resolver.kind, "none");
  assert.ok(logs.some((line) => line.includes("cannot use the Kubernetes API")), logs.join("\n"));
});

void test("a mapping file that cannot be read is a startup error naming the file", async () => {
  await assert.rejects(createPeerResolver(inputs({ staticMappingFile: join(dir, "missing.yaml") }).inputs), /missing\.yaml/);
});

void test("with a Kubernetes configuration the Kubernetes resolver is picked", async () => {
  const api = new FakeKubeApi();
  api.upsert("pods", podObject({ name: "reviews-v1-abc", namespace: "default", ip: "10.44.1.27", labels: { app: "reviews" } }));
  await api.start();
  const { inputs: auto } = inputs({
    kubernetes: "auto",
    staticMappingFile: mappingFile,
    loadKubeConfig: () => kubeConfigFor(api.url),
  });
  const resolver = await createPeerResolver(auto);
  try {
    assert.equal(resolver.kind, "kubernetes");
    await resolver.start();
    assert.deepEqual(resolver.byIp("10.44.1.27"), { service: "reviews.default", instance: "reviews-v1-abc.default" });
  } finally {
    await resolver.stop();
    await api.stop();
  }
});
