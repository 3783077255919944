import { z } from "zod";
import { portField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** Ingest ports. Defaults match what meshes already point at (SkyWalking OAP's ALS port, OTLP, Zipkin). */
export const receiversSection = defineSection(
  z.strictObject({
    alsPort: portField(11_800),
    otlpGrpcPort: portField(4_317),
    otlpHttpPort: portField(4_318),
    zipkinPort: portField(9_411),
  }),
  [
    { key: "alsPort", env: "MESHSIGHT_ALS_PORT", flag: "als-port", description: "Envoy Access Log Service gRPC port, v3 and v2 (0 = pick a free port)." },
    { key: "otlpGrpcPort", env: "MESHSIGHT_OTLP_GRPC_PORT", flag: "otlp-grpc-port", description: "OTLP traces over gRPC (0 = pick a free port)." },
    { key: "otlpHttpPort", env: "MESHSIGHT_OTLP_HTTP_PORT", flag: "otlp-http-port", description: "OTLP traces over HTTP (0 = pick a free port)." },
    { key: "zipkinPort", env: "MESHSIGHT_ZIPKIN_PORT", flag: "zipkin-port", description: "Zipkin v2 span ingest and query API (0 = pick a free port)." },
  ],
);

export type ReceiversConfig = z.output<typeof receiversSection.schema>;
