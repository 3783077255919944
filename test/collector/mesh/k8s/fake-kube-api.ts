/**
 * A local stand-in for the Kubernetes API server (docs/architecture.md: the one thing tests may fake): serves
 * list JSON and `?watch=true` newline-delimited event streams for pods, services and EndpointSlices with
 * resource versions like the real one, including `410 Expired` for a watch older than the retained history.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type ResourceName = "pods" | "services" | "endpointslices";
type EventType = "ADDED" | "MODIFIED" | "DELETED";
export type KubeObject = { metadata: { name: string; namespace: string; resourceVersion?: string } & Record<string, unknown> } & Record<string, unknown>;

const RESOURCES: Record<string, { resource: ResourceName; listKind: string; apiVersion: string }> = {
  "/api/v1/pods": { resource: "pods", listKind: "PodList", apiVersion: "v1" },
  "/api/v1/services": { resource: "services", listKind: "ServiceList", apiVersion: "v1" },
  "/apis/discovery.k8s.io/v1/endpointslices": { resource: "endpointslices", listKind: "EndpointSliceList", apiVersion: "discovery.k8s.io/v1" },
};

interface StoredEvent {
  resourceVersion: number;
  type: EventType;
  object: KubeObject;
}

export class FakeKubeApi {
  private server: Server | undefined;
  private port = 0;
  private resourceVersion = 100;
  private oldestWatchableVersion = 0;
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>();
  private readonly history = new Map<ResourceName, StoredEvent[]>();
  private readonly watchers = new Map<ResourceName, Set<ServerResponse>>();
  /** Raw list items that are not valid objects, to check they are rejected rather than crash. */
  readonly malformedListItems: unknown[] = [];

  constructor() {
    for (const resource of ["pods", "services", "endpointslices"] as const) {
      this.objects.set(resource, new Map());
      this.history.set(resource, []);
      this.watchers.set(resource, new Set());
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port the first time, and on the same port after `stop()`, like a restarted API server. */
  async start(): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes away abruptly: open watch streams are cut, new connections refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const set of this.watchers.values()) set.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  upsert(resource: ResourceName, object: KubeObject): void {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    const store = this.objects.get(resource);
    const type: EventType = store?.has(key) ? "MODIFIED" : "ADDED";
    const stored = this.stamp(object);
    store?.set(key, stored);
    this.publish(resource, type, stored);
  }

  delete(resource: ResourceName, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const store = this.objects.get(resource);
    const existing = store?.get(key);
    if (!existing) return;
    store?.delete(key);
    this.publish(resource, "DELETED", this.stamp(existing));
  }

  /** Forgets history as etcd compaction does: older watches get 410 and the client must relist. */
  compact(): void {
    this.oldestWatchableVersion = this.resourceVersion + 1;
    for (const events of this.history.values()) events.length = 0;
  }

  private stamp(object: KubeObject): KubeObject {
    this.resourceVersion++;
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(this.resourceVersion) } };
  }

  private publish(resource: ResourceName, type: EventType, object: KubeObject): void {
    const event: StoredEvent = { resourceVersion: this.resourceVersion, type, object };
    this.history.get(resource)?.push(event);
    for (const response of this.watchers.get(resource) ?? []) response.write(`${JSON.stringify({ type, object })}\n`);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", this.url);
    const route = RESOURCES[url.pathname];
    if (!route || request.method !== "GET") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
      return;
    }
    if (url.searchParams.get("watch") === "true") {
      this.serveWatch(route.resource, url.searchParams.get("resourceVersion") ?? "", response);
      return;
    }
    const items: unknown[] = [...(this.objects.get(route.resource)?.values() ?? [])];
    if (route.resource === "pods") items.push(...this.malformedListItems);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({ kind: route.listKind, apiVersion: route.apiVersion, metadata: { resourceVersion: String(this.resourceVersion) }, items }),
    );
  }

  private serveWatch(resource: ResourceName, fromVersionText: string, response: ServerResponse): void {
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    // The real API server answers a watch at once; Node would hold the headers back until the first event.
    response.flushHeaders();
    const fromVersion = Number(fromVersionText || this.resourceVersion);
    if (fromVersion < this.oldestWatchableVersion - 1) {
      const status = { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Expired", code: 410, message: `too old resource version: ${fromVersion}` };
      response.end(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
      return;
    }
    for (const event of this.history.get(resource) ?? []) {
      if (event.resourceVersion > fromVersion) response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
    const watchers = this.watchers.get(resource);
    watchers?.add(response);
    response.on("close", () => watchers?.delete(response));
  }
}

/** Real-shaped objects, trimmed to what a kubectl get -o json shows for such workloads. */
export function podObject(options: {
  name: string;
  namespace: string;
  ip: string;
  labels?: Record<string, string>;
  hostIp?: string;
  hostNetwork?: boolean;
  phase?: string;
  serviceAccount?: string;
}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: options.name,
      namespace: options.namespace,
      uid: `uid-${options.namespace}-${options.name}`,
      labels: options.labels ?? {},
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: options.name.replace(/-[^-]+$/, ""), uid: "rs-uid", controller: true }],
    },
    spec: {
      nodeName: "node-1",
      serviceAccountName: options.serviceAccount ?? "default",
      hostNetwork: options.hostNetwork ?? false,
      containers: [{ name: "app", image: "docker.io/istio/examples-bookinfo:1.20", ports: [{ containerPort: 9080, protocol: "TCP" }] }],
    },
    status: {
      phase: options.phase ?? "Running",
      hostIP: options.hostIp ?? "10.128.0.5",
      hostIPs: [{ ip: options.hostIp ?? "10.128.0.5" }],
      podIP: options.ip,
      podIPs: [{ ip: options.ip }],
      startTime: "2026-11-20T10:00:00Z",
    },
  };
}

export function serviceObject(options: { name: string; namespace: string; clusterIp: string }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: options.name, namespace: options.namespace, uid: `svc-${options.name}`, labels: { app: options.name } },
    spec: {
      type: "ClusterIP",
      clusterIP: options.clusterIp,
      clusterIPs: [options.clusterIp],
      selector: { app: options.name },
      ports: [{ name: "http", port: 9080, protocol: "TCP", targetPort: 9080 }],
    },
    status: { loadBalancer: {} },
  };
}

export function endpointSliceObject(options: {
  name: string;
  namespace: string;
  service: string;
  endpoints: Array<{ ip: string; pod?: string }>;
}): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { "kubernetes.io/service-name": options.service, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
    },
    addressType: "IPv4",
    endpoints: options.endpoints.map((endpoint) => ({
      addresses: [endpoint.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: "node-1",
      ...(endpoint.pod ? { targetRef: { kind: "Pod", namespace: options.namespace, name: endpoint.pod, uid: `uid-${endpoint.pod}` } } : {}),
    })),
    ports: [{ name: "http", port: 9080, protocol: "TCP" }],
  };
}
