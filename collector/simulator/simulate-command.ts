import { parseArgs } from "node:util";
import type { BookinfoService } from "./bookinfo-mesh.ts";
import type { BookinfoFault } from "./bookinfo-traffic.ts";
import type { BookinfoSimulationOptions } from "./simulate-bookinfo.ts";

/**
 * `meshsight simulate`: plays the bookinfo mesh into a running meshsight (or any ALS receiver) in real
 * time, for demos and for trying alarm rules. Faults are `service:abort:fraction`,
 * `service:delay:ms`, `pod-down:<pod name>` or `pod-absent:<pod name>` (not deployed yet).
 */
export const SIMULATE_USAGE = `usage: meshsight simulate [--target host:port] [--rate requests/s] [--duration seconds]
                          [--fault SERVICE:abort:FRACTION | SERVICE:delay:MS | pod-down:POD | pod-absent:POD]... [--tcp] [--v2]
                          [--drop-peer-metadata SHARE] [--drop-mtls SHARE]
  Plays a bookinfo-like mesh (ingress gateway -> productpage -> details, reviews v1/v2/v3 -> ratings)
  into an Envoy ALS receiver over gRPC, the way Istio sidecars report, in real time: peer metadata,
  mTLS identities (SPIFFE URIs) and request ids on every meshed request.
  --drop-peer-metadata SHARE  share (0..1) of hops logged without peer metadata: callers are then named
                              by their mTLS identity
  --drop-mtls SHARE           share (0..1) of hops in plaintext (no identity): with peer metadata dropped
                              too, callers are named by pairing both sides' request ids
  Defaults: --target 127.0.0.1:<MESHSIGHT_ALS_PORT, else 11800> --rate 20 --duration 300
  Gives up after 5 s when nothing accepts its stream.
`;

const SERVICES: readonly BookinfoService[] = ["istio-ingressgateway", "productpage", "details", "reviews", "ratings", "mysqldb"];

export class SimulateUsageError extends Error {
  override readonly name = "SimulateUsageError";
}

function share(value: string, flag: string): number {
  const parsed = Number(value);
  if (!(value.trim() !== "" && parsed >= 0 && parsed <= 1)) throw new SimulateUsageError(`--${flag} expects a share from 0 to 1, got ${JSON.stringify(value)}`);
  return parsed;
}

function positiveNumber(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new SimulateUsageError(`--${flag} expects a positive number, got ${JSON.stringify(value)}`);
  return parsed;
}

export function parseFault(text: string): BookinfoFault {
  const [head = "", kind = "", value = ""] = text.split(":");
  if ((head === "pod-down" || head === "pod-absent") && kind !== "") return { kind: head, pod: kind };
  const service = SERVICES.find((name) => name === head);
  if (service === undefined) throw new SimulateUsageError(`--fault ${JSON.stringify(text)}: unknown service ${JSON.stringify(head)} (one of ${SERVICES.join(", ")})`);
  if (kind === "abort") {
    const fraction = Number(value);
    if (!(fraction > 0 && fraction <= 1)) throw new SimulateUsageError(`--fault ${JSON.stringify(text)}: abort expects a fraction in (0, 1]`);
    return { kind: "abort", service, fraction };
  }
  if (kind === "delay") return { kind: "delay", service, delayMs: positiveNumber(value, "fault delay") };
  throw new SimulateUsageError(`--fault ${JSON.stringify(text)}: expected SERVICE:abort:FRACTION, SERVICE:delay:MS, pod-down:POD or pod-absent:POD`);
}

/** `defaultTarget` is where meshsight's ALS receiver listens by configuration (cli.ts reads it). */
export function parseSimulateArgs(args: readonly string[], defaultTarget = "127.0.0.1:11800"): BookinfoSimulationOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        target: { type: "string", default: defaultTarget },
        rate: { type: "string", default: "20" },
        duration: { type: "string", default: "300" },
        fault: { type: "string", multiple: true, default: [] },
        tcp: { type: "boolean", default: false },
        v2: { type: "boolean", default: false },
        "drop-peer-metadata": { type: "string", default: "0" },
        "drop-mtls": { type: "string", default: "0" },
      },
      strict: true,
    });
  } catch (error) {
    throw new SimulateUsageError((error as Error).message);
  }
  const { values } = parsed;
  return {
    target: values.target,
    ratePerSecond: positiveNumber(values.rate, "rate"),
    durationMs: positiveNumber(values.duration, "duration") * 1000,
    startTimeMs: Date.now(),
    realTime: true,
    faults: values.fault.map(parseFault),
    tcp: values.tcp,
    version: values.v2 ? "v2" : "v3",
    dropPeerMetadata: share(values["drop-peer-metadata"], "drop-peer-metadata"),
    dropMtls: share(values["drop-mtls"], "drop-mtls"),
  };
}
