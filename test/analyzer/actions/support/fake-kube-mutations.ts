/**
 * A local stand-in for the Kubernetes API server's calls that change things (the one thing tests may fake):
 * lists pods by namespace and label selector, reads and lists nodes, and records every pod DELETE and node
 * PATCH with its content type, answering with real-shaped objects. Objects are the collector's fixtures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeObject } from "../../../collector/mesh/k8s/fake-kube-api.ts";

export interface RecordedCall {
  method: string;
  path: string;
  contentType: string;
  body: unknown;
}

const POD = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/;
const NODE = /^\/api\/v1\/nodes(?:\/([^/]+))?$/;

export function nodeObject(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Node", metadata: { name, namespace: "", uid: `node-${name}`, labels: { "kubernetes.io/hostname": name, ...labels } }, spec: {}, status: { conditions: [{ type: "Ready", status: "True" }] } };
}

function matchesSelector(object: KubeObject, selector: string | null): boolean {
  if (!selector) return true;
  const labels = (object.metadata.labels ?? {}) as Record<string, string>;
  return selector.split(",").every((term) => {
    if (term.startsWith("!")) return !(term.slice(1) in labels);
    const [key, value] = term.split("=");
    return key !== undefined && labels[key] === value;
  });
}

export async function startFakeKubeMutations(initial: { pods?: KubeObject[]; nodes?: KubeObject[] }) {
  const pods = new Map((initial.pods ?? []).map((pod) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod]));
  const nodes = new Map((initial.nodes ?? []).map((node) => [node.metadata.name, node]));
  const calls: RecordedCall[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://fake");
      const send = (status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      const notFound = () => send(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `${url.pathname} not found` });
      const text = Buffer.concat(chunks).toString();
      const method = request.method ?? "GET";
      if (method !== "GET") calls.push({ method, path: url.pathname, contentType: request.headers["content-type"] ?? "", body: text === "" ? null : (JSON.parse(text) as unknown) });
      const list = (kind: string, items: KubeObject[]) => send(200, { kind, apiVersion: "v1", metadata: { resourceVersion: "1" }, items: items.filter((item) => matchesSelector(item, url.searchParams.get("labelSelector"))) });
      const pod = POD.exec(url.pathname);
      if (pod?.[1]) {
        const namespace = decodeURIComponent(pod[1]);
        if (!pod[2] && method === "GET") return list("PodList", [...pods.values()].filter((item) => item.metadata.namespace === namespace));
        const key = `${namespace}/${decodeURIComponent(pod[2] ?? "")}`;
        const found = pods.get(key);
        if (!found) return notFound();
        if (method === "DELETE") pods.delete(key);
        return send(200, found);
      }
      const node = NODE.exec(url.pathname);
      if (node) {
        if (!node[1]) return list("NodeList", [...nodes.values()]);
        const found = nodes.get(decodeURIComponent(node[1]));
        if (!found) return notFound();
        if (method === "PATCH") Object.assign(found, { spec: { ...(found.spec as object), ...((JSON.parse(text) as { spec?: object }).spec ?? {}) } });
        return send(200, found);
      }
      notFound();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    pods,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
