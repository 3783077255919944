import { z } from "zod";
import { integerField, portField } from "../../../core/config/fields.ts";
import { defineSection } from "../../../core/config/section.ts";

/** The Envoy Access Log Service receiver: `receivers.als` (docs/configuration.md). */
export const alsReceiverSettings = defineSection(
  z.strictObject({
    port: portField(11_800),
    maxStreams: integerField(1, 1_000_000).default(10_000),
    maxConnectionAgeMs: integerField(0, 86_400_000).default(600_000),
    maxConnectionAgeGraceMs: integerField(0, 86_400_000).default(30_000),
  }),
  [
    { key: "port", env: "MESHSIGHT_ALS_PORT", flag: "als-port", formerly: "receivers.alsPort", description: "Envoy Access Log Service gRPC port, v3 and v2 (0 = pick a free port)." },
    { key: "maxStreams", env: "MESHSIGHT_ALS_MAX_STREAMS", flag: "als-max-streams", formerly: "collector.alsMaxStreams", description: "Concurrent ALS streams accepted; more are refused with RESOURCE_EXHAUSTED." },
    {
      key: "maxConnectionAgeMs",
      env: "MESHSIGHT_ALS_MAX_CONNECTION_AGE_MS",
      flag: "als-max-connection-age-ms",
      formerly: "collector.alsMaxConnectionAgeMs",
      description: "After this long (+/-10% jitter) an ALS connection gets an HTTP/2 GOAWAY, so Envoy's next stream opens a new connection and re-balances across replicas (0 = never).",
    },
    {
      key: "maxConnectionAgeGraceMs",
      env: "MESHSIGHT_ALS_MAX_CONNECTION_AGE_GRACE_MS",
      flag: "als-max-connection-age-grace-ms",
      formerly: "collector.alsMaxConnectionAgeGraceMs",
      description: "How long streams on a connection past its age may go on before the connection is closed; what was received is handed over (0 = wait for the streams to end).",
    },
  ],
);

export type AlsReceiverConfig = z.output<(typeof alsReceiverSettings)["schema"]>;
