import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Registry } from "prom-client";
import { buildApp } from "../../../core/http/app.ts";
import type { Alert } from "../../../core/model/alert.ts";
import { InlineQueue } from "../../../core/queue/inline.ts";
import type { JobQueue } from "../../../core/queue/port.ts";
import { createAlertOutputs, type AlertOutputs } from "../../../analyzer/outputs/alert-outputs.ts";
import { outputsSection, type OutputsConfig } from "../../../analyzer/outputs/config.ts";
import type { DeliveryRecord } from "../../../analyzer/outputs/delivery-log.ts";

export const silentLogger = pino({ level: "silent" });

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAtMs: number;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** How the receiver answers; the default is 200 with `defaultBody`. `hang` never answers. */
export type Answer = { status: number; body: string } | "hang";

/** A real HTTP server on a free loopback port that records every request. */
export async function startReceiver(answer: (request: ReceivedRequest) => Answer = () => ({ status: 200, body: "" })): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), receivedAtMs: Date.now() };
      requests.push(received);
      const reply = answer(received);
      if (reply === "hang") {
        hanging.push(response);
        return;
      }
      response.statusCode = reply.status;
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: "a-1",
    rule: "service_sla_rule",
    scope: "service",
    entity: "productpage.default",
    state: "firing",
    message: "SLA of productpage.default is 61.5 % in 2 of the last 3 minutes",
    labels: { severity: "critical", team: "shop" },
    startsAtMs: Date.UTC(2026, 0, 1, 10, 0, 0),
    endsAtMs: 0,
    rootCause: {
      service: "ratings.default",
      instance: "ratings-v1-7c9.default",
      score: 0.87,
      reason: "errors up from 0 % to 41 %; its dependencies are healthy",
      evidence: [
        { kind: "metric", summary: "sla 100 % -> 59 %", ref: "/api/v1/metrics?scope=service&service=ratings.default&metric=sla" },
        { kind: "trace", summary: "503 from ratings", ref: "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736" },
      ],
    },
    incidentId: "inc-ratings",
    ...overrides,
  };
}

export function resolvedAlert(overrides: Partial<Alert> = {}): Alert {
  return sampleAlert({ state: "resolved", endsAtMs: Date.UTC(2026, 0, 1, 10, 7, 0), ...overrides });
}

export interface Harness {
  outputs: AlertOutputs;
  queue: JobQueue;
  registry: Registry;
  app: FastifyInstance;
  deliveries(query?: string): Promise<DeliveryRecord[]>;
  close(): Promise<void>;
}

/** createAlertOutputs on the inline queue with its worker started and its routes in an app, as cli.ts wires it. */
export async function outputsHarness(rawConfig: Record<string, unknown>, options: { now?: () => number; maxPending?: number } = {}): Promise<Harness> {
  const config: OutputsConfig = outputsSection.schema.parse(rawConfig);
  const queue = new InlineQueue({ maxPending: options.maxPending ?? 1_000, logger: silentLogger });
  const registry = new Registry();
  const outputs = createAlertOutputs({ config, queue, registry, logger: silentLogger, now: options.now });
  for (const component of outputs.components) await component.start();
  const app = buildApp({ logger: silentLogger, registry, readinessChecks: [], bodyLimitBytes: 1_000_000, routes: outputs.routes });
  await app.ready();
  return {
    outputs,
    queue,
    registry,
    app,
    async deliveries(query = "") {
      const response = await app.inject({ method: "GET", url: `/api/v1/alert-deliveries${query}` });
      if (response.statusCode !== 200) throw new Error(`GET /api/v1/alert-deliveries${query}: ${response.statusCode} ${response.body}`);
      return response.json<DeliveryRecord[]>();
    },
    async close() {
      for (const component of outputs.components.reverse()) await component.stop();
      await queue.close();
      await app.close();
    },
  };
}

/** The value of one sample of a counter in the registry, 0 when absent. */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const sample = values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected));
  return sample?.value ?? 0;
}
