/**
 * Every YAML document under deploy/ parses, and every Kubernetes object in them has the API's shape
 * (test/deploy/k8s-schema.ts, Istio objects: istio-schema.ts). Then the objects are checked against each
 * other and against meshsight itself: selectors find their pods, ports exist, the config file and the
 * environment load with meshsight's own config loader, Istio sends ALS to the collector Service.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { sections } from "../../cli-sections.ts";
import { loadConfig } from "../../core/config/load.ts";
import { builtInModelName, checkAgainstModel } from "./k8s-schema.ts";
import { istioOperator, kustomization, telemetry } from "./istio-schema.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY_DIR = join(REPO_ROOT, "deploy");
/** Prometheus's own config and rule files: YAML, but not Kubernetes objects. */
const NON_KUBERNETES_DIRS = ["deploy/prometheus/"];

type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } };

interface LoadedDocument {
  file: string;
  index: number;
  value: unknown;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function loadDeployDocuments(): Promise<LoadedDocument[]> {
  const documents: LoadedDocument[] = [];
  for (const path of await yamlFiles(DEPLOY_DIR)) {
    const file = relative(REPO_ROOT, path);
    const parsed = parseAllDocuments(await readFile(path, "utf8"));
    const list = Array.isArray(parsed) ? parsed : [parsed];
    list.forEach((document, index) => {
      assert.deepEqual(document.errors.map((error) => error.message), [], `${file} document ${index}`);
      const value: unknown = document.toJS();
      if (value !== null && value !== undefined) documents.push({ file, index, value });
    });
  }
  return documents;
}

function isKubeObject(value: unknown): value is KubeObject {
  return typeof value === "object" && value !== null && typeof (value as KubeObject).apiVersion === "string" && typeof (value as KubeObject).kind === "string";
}

function schemaProblems(object: KubeObject, where: string): string[] {
  if (object.kind === "Telemetry") return zodProblems(telemetry.safeParse(object), where);
  if (object.kind === "IstioOperator") return zodProblems(istioOperator.safeParse(object), where);
  if (object.kind === "Kustomization") return zodProblems(kustomization.safeParse(object), where);
  const model = builtInModelName(object.apiVersion, object.kind);
  if (model === undefined) return [`${where}: no schema known for ${object.apiVersion} ${object.kind}`];
  const problems = checkAgainstModel(object, model, where);
  if (typeof object.metadata?.name !== "string" || object.metadata.name === "") problems.push(`${where}: metadata.name is required`);
  return problems;
}

function zodProblems(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, where: string): string[] {
  return result.success ? [] : (result.error?.issues ?? []).map((issue) => `${where}.${issue.path.map(String).join(".")}: ${issue.message}`);
}

const documents = await loadDeployDocuments();
const objects = documents.filter((document) => isKubeObject(document.value)).map((document) => ({ ...document, object: document.value as KubeObject }));

function objectsOf(kind: string): KubeObject[] {
  return objects.filter(({ object }) => object.kind === kind).map(({ object }) => object);
}

function named(kind: string, name: string): KubeObject {
  const found = objectsOf(kind).find((object) => object.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name} under deploy/`);
  return found;
}

/** Reads a nested field; the objects were schema-checked already, so tests only need the shape they name. */
function at<T>(value: unknown, ...path: (string | number)[]): T {
  let current: unknown = value;
  for (const key of path) current = (current as Record<string | number, unknown> | undefined)?.[key];
  return current as T;
}

interface PodTemplate {
  labels: Record<string, string>;
  containers: { name: string; env?: { name: string; value?: string }[]; ports?: { name?: string; containerPort: number }[] }[];
  serviceAccountName?: string;
  volumes?: { name: string; configMap?: { name: string } }[];
}

function podTemplates(): { name: string; template: PodTemplate }[] {
  return [...objectsOf("Deployment"), ...objectsOf("StatefulSet")].map((workload) => ({
    name: workload.metadata?.name ?? "",
    template: { labels: at(workload, "spec", "template", "metadata", "labels"), ...at<Omit<PodTemplate, "labels">>(workload, "spec", "template", "spec") },
  }));
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

test("every YAML document under deploy/ is a Kubernetes or Istio object of the right shape (Prometheus files aside)", () => {
  assert.ok(objects.length >= 15, `only ${objects.length} objects found`);
  const strays = documents.filter((document) => !isKubeObject(document.value) && !NON_KUBERNETES_DIRS.some((dir) => document.file.startsWith(dir)));
  assert.deepEqual(strays.map((document) => `${document.file}#${document.index}`), []);
  const problems = objects.flatMap(({ file, index, object }) => schemaProblems(object, `${file}#${index} ${object.kind}`));
  assert.deepEqual(problems, []);
  for (const kind of ["Deployment", "Service", "ConfigMap", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget", "StatefulSet", "Telemetry", "IstioOperator"]) {
    assert.ok(objectsOf(kind).length > 0, `deploy/ has no ${kind}`);
  }
});

test("the schema check finds unknown fields, wrong types and missing required fields", () => {
  const deployment = structuredClone(named("Deployment", "meshsight-collector"));
  const container = at<Record<string, unknown>>(deployment, "spec", "template", "spec", "containers", 0);
  container["imagePullPolcy"] = "Always";
  container["ports"] = [{ name: "http" }];
  at<Record<string, unknown>>(deployment, "spec")["replicas"] = "3";
  delete at<Record<string, unknown>>(deployment, "spec")["selector"];
  assert.deepEqual(schemaProblems(deployment, "d").sort(), [
    "d.spec.replicas: expected number, got \"3\"",
    "d.spec.template.spec.containers[0].imagePullPolcy: unknown field of V1Container",
    "d.spec.template.spec.containers[0].ports[0]: V1ContainerPort needs containerPort",
    "d.spec: V1DeploymentSpec needs selector",
  ]);
  assert.deepEqual(schemaProblems({ apiVersion: "example.com/v1", kind: "Widget" }, "w"), ["w: no schema known for example.com/v1 Widget"]);
  const misspeltTelemetry = structuredClone(named("Telemetry", "mesh-default"));
  at<Record<string, unknown>>(misspeltTelemetry, "spec")["accesLogging"] = [];
  assert.ok(schemaProblems(misspeltTelemetry, "t").length > 0);
});

test("workloads, Services and PodDisruptionBudgets agree on labels, ports, accounts and config", () => {
  const templates = podTemplates();
  for (const workload of [...objectsOf("Deployment"), ...objectsOf("StatefulSet")]) {
    assert.ok(selects(at(workload, "spec", "selector", "matchLabels"), at(workload, "spec", "template", "metadata", "labels")), `${workload.metadata?.name} selects its own pods`);
  }
  for (const service of objectsOf("Service").filter((object) => object.metadata?.namespace === "meshsight")) {
    const targets = templates.filter(({ template }) => selects(at(service, "spec", "selector"), template.labels));
    assert.equal(targets.length, 1, `Service ${service.metadata?.name} selects one workload`);
    const portNames = new Set(targets[0]?.template.containers.flatMap((container) => (container.ports ?? []).map((port) => port.name)));
    for (const port of at<{ name: string; targetPort: string }[]>(service, "spec", "ports")) {
      assert.ok(portNames.has(port.targetPort), `Service ${service.metadata?.name} port ${port.name} targets a named container port`);
    }
  }
  for (const budget of objectsOf("PodDisruptionBudget")) {
    assert.ok(templates.some(({ template }) => selects(at(budget, "spec", "selector", "matchLabels"), template.labels)), `PDB ${budget.metadata?.name} covers pods`);
  }
  for (const { name, template } of templates.filter(({ name }) => name.startsWith("meshsight"))) {
    assert.equal(template.serviceAccountName, "meshsight", name);
    named("ServiceAccount", "meshsight");
    for (const volume of template.volumes ?? []) if (volume.configMap) named("ConfigMap", volume.configMap.name);
  }
  const rules = at<{ apiGroups: string[]; resources: string[]; verbs: string[] }[]>(named("ClusterRole", "meshsight-read"), "rules");
  for (const [group, resource] of [["", "pods"], ["", "services"], ["discovery.k8s.io", "endpointslices"]] as const) {
    const rule = rules.find((candidate) => candidate.apiGroups.includes(group) && candidate.resources.includes(resource));
    assert.deepEqual(rule?.verbs, ["get", "list", "watch"], `${group}/${resource} is readable and nothing more`);
  }
  const binding = named("ClusterRoleBinding", "meshsight-read");
  assert.deepEqual(at(binding, "subjects"), [{ kind: "ServiceAccount", name: "meshsight", namespace: "meshsight" }]);
});

test("each meshsight Deployment's config file and environment load with meshsight's own config loader", async () => {
  const configFile = at<string>(named("ConfigMap", "meshsight-config"), "data", "config.yaml");
  const dir = await mkdtemp(join(tmpdir(), "meshsight-deploy-"));
  try {
    await writeFile(join(dir, "config.yaml"), configFile);
    const roles = new Set<string>();
    for (const { name, template } of podTemplates().filter(({ name }) => name.startsWith("meshsight"))) {
      const container = template.containers[0];
      const env = Object.fromEntries((container?.env ?? []).map((variable) => [variable.name, variable.value ?? ""]));
      const config = loadConfig([], { ...env, MESHSIGHT_CONFIG: join(dir, "config.yaml") }, sections);
      for (const role of config.server.roles) roles.add(role);
      const containerPorts = new Map((container?.ports ?? []).map((port) => [port.name, port.containerPort]));
      assert.equal(containerPorts.get("http"), config.http.port, `${name}: HTTP port`);
      if (config.server.roles.includes("collector")) {
        assert.equal(containerPorts.get("grpc-als"), config.receivers.als.port, `${name}: ALS port`);
        assert.equal(containerPorts.get("grpc-otlp"), config.receivers.otlp.grpcPort);
        assert.equal(containerPorts.get("http-otlp"), config.receivers.otlp.httpPort);
        assert.equal(containerPorts.get("http-zipkin"), config.receivers.zipkin.port);
        assert.ok(config.receivers.als.maxConnectionAgeMs > 0, "collectors bound ALS connection age");
      }
    }
    assert.deepEqual([...roles].sort(), ["analyzer", "api", "collector", "prober"], "the Deployments together run every role");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("Istio sends HTTP and TCP access logs to the collector Service's ALS port", () => {
  const service = named("Service", "meshsight");
  const alsPort = at<{ name: string; port: number }[]>(service, "spec", "ports").find((port) => port.name === "grpc-als")?.port;
  const host = `${service.metadata?.name}.${service.metadata?.namespace}.svc.cluster.local`;
  const providers = at<{ name: string; envoyHttpAls?: { service: string; port: number }; envoyTcpAls?: { service: string; port: number } }[]>(
    named("IstioOperator", "meshsight-als"),
    "spec",
    "meshConfig",
    "extensionProviders",
  );
  const targets = providers.map((provider) => provider.envoyHttpAls ?? provider.envoyTcpAls);
  assert.deepEqual(targets, [{ service: host, port: alsPort, logName: "http_envoy_accesslog" }, { service: host, port: alsPort, logName: "tcp_envoy_accesslog" }]);
  const enabled = at<{ providers: { name: string }[] }[]>(named("Telemetry", "mesh-default"), "spec", "accessLogging").flatMap((entry) => entry.providers.map((provider) => provider.name));
  assert.deepEqual(enabled.sort(), providers.map((provider) => provider.name).sort());
});

test("the kustomization lists every manifest of deploy/kubernetes", async () => {
  const listed = at<string[]>(objectsOf("Kustomization")[0], "resources");
  const files = (await readdir(join(DEPLOY_DIR, "kubernetes"))).filter((name) => /\.ya?ml$/.test(name) && name !== "kustomization.yaml");
  assert.deepEqual([...listed].sort(), files.sort());
});
