/**
 * A local stand-in for the Kubernetes API server's batch/v1 Jobs (the one thing tests may fake): records
 * every created Job and every delete with its propagation policy; namespace "forbidden" refuses creates
 * with a 403 Status like RBAC does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedJob {
  namespace: string;
  body: {
    metadata: { name: string; labels: Record<string, string> };
    spec: { backoffLimit: number; template: { spec: { restartPolicy: string; containers: { image: string; env: { name: string; value: string }[] }[] } } };
  };
}

export interface RecordedDelete {
  namespace: string;
  name: string;
  propagationPolicy: string;
}

const JOBS = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/?]+))?$/;

export async function startFakeBatchApi(): Promise<{ url: string; created: RecordedJob[]; deleted: RecordedDelete[]; close: () => Promise<void> }> {
  const created: RecordedJob[] = [];
  const deleted: RecordedDelete[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://fake");
      const match = JOBS.exec(url.pathname);
      const send = (status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (!match?.[1]) return send(404, { kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound", message: "the server could not find the requested resource" });
      const namespace = decodeURIComponent(match[1]);
      const text = Buffer.concat(chunks).toString();
      if (request.method === "POST" && !match[2]) {
        if (namespace === "forbidden") {
          return send(403, { kind: "Status", apiVersion: "v1", status: "Failure", code: 403, reason: "Forbidden", message: `jobs.batch is forbidden: User "system:serviceaccount:monitoring:meshsight" cannot create resource "jobs" in namespace "forbidden"` });
        }
        const body = JSON.parse(text) as RecordedJob["body"];
        created.push({ namespace, body });
        return send(201, { ...body, metadata: { ...body.metadata, namespace, uid: `uid-${created.length}`, resourceVersion: String(1000 + created.length) } });
      }
      if (request.method === "DELETE" && match[2]) {
        const options = text === "" ? {} : (JSON.parse(text) as { propagationPolicy?: string });
        deleted.push({ namespace, name: decodeURIComponent(match[2]), propagationPolicy: url.searchParams.get("propagationPolicy") ?? options.propagationPolicy ?? "" });
        return send(200, { kind: "Status", apiVersion: "v1", status: "Success", details: { name: match[2], group: "batch", kind: "jobs" } });
      }
      send(405, { kind: "Status", apiVersion: "v1", status: "Failure", code: 405, reason: "MethodNotAllowed", message: "not supported by the fake" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    created,
    deleted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
