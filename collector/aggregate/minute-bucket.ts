import type { Component, DetectPoint } from "../../core/model/dimensions.ts";
import type { MinuteMetrics } from "../../core/model/metrics.ts";
import type { EntitySet } from "./entity-set.ts";
import type { InstanceRegistry } from "./instance-registry.ts";
import type { MetricAccumulator } from "./metric-accumulator.ts";

const COMPONENTS: readonly Component[] = ["http", "grpc", "tcp", "tls", "mtls"];
const DETECT_POINTS: readonly DetectPoint[] = ["client", "server"];

/** Index of a relation's cell: detect point x component, so one relation key costs one map lookup. */
export function relationCellIndex(detectPoint: DetectPoint, component: Component): number {
  let componentIndex: number;
  switch (component) {
    case "http":
      componentIndex = 0;
      break;
    case "grpc":
      componentIndex = 1;
      break;
    case "tcp":
      componentIndex = 2;
      break;
    case "tls":
      componentIndex = 3;
      break;
    case "mtls":
      componentIndex = 4;
      break;
    default:
      return -1;
  }
  if (detectPoint === "server") return COMPONENTS.length + componentIndex;
  return detectPoint === "client" ? componentIndex : -1;
}

export type RelationCells = Array<MetricAccumulator | undefined>;

export function newRelationCells(): RelationCells {
  return new Array<MetricAccumulator | undefined>(COMPONENTS.length * DETECT_POINTS.length).fill(undefined);
}

/**
 * Everything one service did in one minute: its own server-side metrics, its instances and endpoints, and
 * its outgoing relations keyed by destination service. Nesting by service means a record touches this
 * object once and then one small map per dimension, with no key strings built.
 */
export class ServiceMinute {
  server: MetricAccumulator | null = null;
  readonly instances = new Map<string, MetricAccumulator>();
  readonly endpoints = new Map<string, MetricAccumulator>();
  readonly relationsTo = new Map<string, RelationCells>();

  constructor(readonly apdexThresholdMs: number) {}
}

export class MinuteBucket {
  readonly services = new Map<string, ServiceMinute>();
  /** Accumulators held, counted against the aggregator's bound. */
  accumulators = 0;

  constructor(readonly startMs: number) {}

  /** Appends this minute's rows to `metrics` and the entities it saw to `entities`. */
  emit(metrics: MinuteMetrics[], entities: EntitySet, instances: InstanceRegistry): void {
    const timeMs = this.startMs;
    for (const [service, minute] of this.services) {
      let serviceSeenMs = -1;
      if (minute.server !== null) {
        metrics.push(minute.server.toMinuteMetrics(timeMs, { scope: "service", service, name: "", detectPoint: "", component: "" }));
        serviceSeenMs = minute.server.lastSeenMs;
      }
      for (const [instance, accumulator] of minute.instances) {
        metrics.push(accumulator.toMinuteMetrics(timeMs, { scope: "instance", service, name: instance, detectPoint: "", component: "" }));
        entities.add("instance", service, instance, accumulator.lastSeenMs, instances.attributesOf(service, instance));
      }
      for (const [endpoint, accumulator] of minute.endpoints) {
        metrics.push(accumulator.toMinuteMetrics(timeMs, { scope: "endpoint", service, name: endpoint, detectPoint: "", component: "" }));
        entities.add("endpoint", service, endpoint, accumulator.lastSeenMs, {});
      }
      for (const [destination, cells] of minute.relationsTo) {
        cells.forEach((accumulator, index) => {
          if (accumulator === undefined) return;
          const detectPoint = DETECT_POINTS[Math.floor(index / COMPONENTS.length)] ?? "client";
          const component = COMPONENTS[index % COMPONENTS.length] ?? "tcp";
          metrics.push(accumulator.toMinuteMetrics(timeMs, { scope: "relation", service, name: destination, detectPoint, component }));
          serviceSeenMs = Math.max(serviceSeenMs, accumulator.lastSeenMs);
          // The callee is a service too, even if only callers' proxies reported it.
          entities.add("service", destination, "", accumulator.lastSeenMs, {});
        });
      }
      if (serviceSeenMs >= 0) entities.add("service", service, "", serviceSeenMs, {});
    }
  }
}
