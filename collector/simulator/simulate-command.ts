import { parseArgs } from "node:util";
import { formatCommandHelp } from "../../core/config/describe.ts";
import type { BookinfoService } from "./bookinfo-mesh.ts";
import type { BookinfoFault } from "./bookinfo-traffic.ts";
import type { BookinfoSimulationOptions } from "./simulate-bookinfo.ts";

/**
 * `meshsight simulate`: plays the bookinfo mesh into a running meshsight (or any ALS receiver) in real
 * time, for demos and for trying alarm rules. Faults are `service:abort:fraction`,
 * `service:delay:ms`, `pod-down:<pod name>` or `pod-absent:<pod name>` (not deployed yet).
 */
/** `meshsight simulate --help`, laid out as start --help. */
export function formatSimulateHelp(width?: number): string {
  return formatCommandHelp(
    {
      usage: "meshsight simulate [flags]",
      about: [
        "Plays a bookinfo-like mesh (ingress gateway -> productpage -> details, reviews v1/v2/v3 -> ratings) into an Envoy ALS receiver over gRPC, the way Istio sidecars report, in real time: peer metadata, mTLS identities (SPIFFE URIs) and request ids on every meshed request.",
      ],
      groups: [
        {
          title: "traffic",
          flags: [
            { flag: "--target <host:port>", defaultValue: "127.0.0.1:<MESHSIGHT_ALS_PORT, else 11800>", description: "The ALS receiver to play into; gives up after 5 s when nothing accepts the stream." },
            { flag: "--rate <requests/s>", defaultValue: "20", description: "Requests per second entering the gateway." },
            { flag: "--duration <seconds>", defaultValue: "300", description: "How long to play." },
            {
              flag: "--fault <SERVICE:abort:FRACTION | SERVICE:delay:MS | pod-down:POD | pod-absent:POD>",
              description: "A fault to play; repeat the flag for several. abort fails that share of the service's calls, delay adds MS to each, pod-down stops a pod, pod-absent plays one not deployed yet.",
            },
            { flag: "--tcp", description: "Also play ratings -> mysqldb TCP connections." },
            { flag: "--v2", description: "Speak Envoy's v2 access-log service API instead of v3." },
          ],
        },
        {
          title: "caller identity",
          flags: [
            { flag: "--drop-peer-metadata <SHARE>", defaultValue: "0", description: "Share (0..1) of hops logged without peer metadata: callers are then named by their mTLS identity." },
            { flag: "--drop-mtls <SHARE>", defaultValue: "0", description: "Share (0..1) of hops in plaintext (no identity): with peer metadata dropped too, callers are named by pairing both sides' request ids." },
          ],
        },
      ],
      notes: ["Exit codes: 0 every request sent; 1 nothing accepted the stream or a stream failed; 2 bad command line."],
    },
    width,
  );
}

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
