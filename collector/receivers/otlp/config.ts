import { z } from "zod";
import { portField } from "../../../core/config/fields.ts";
import { defineSection } from "../../../core/config/section.ts";

/** The OTLP trace receivers, gRPC and HTTP: `receivers.otlp` (docs/configuration.md). */
export const otlpReceiverSettings = defineSection(
  z.strictObject({
    grpcPort: portField(4_317),
    httpPort: portField(4_318),
  }),
  [
    { key: "grpcPort", env: "MESHSIGHT_OTLP_GRPC_PORT", flag: "otlp-grpc-port", formerly: "receivers.otlpGrpcPort", description: "OTLP traces over gRPC (0 = pick a free port)." },
    { key: "httpPort", env: "MESHSIGHT_OTLP_HTTP_PORT", flag: "otlp-http-port", formerly: "receivers.otlpHttpPort", description: "OTLP traces over HTTP (0 = pick a free port)." },
  ],
);

export type OtlpReceiverConfig = z.output<(typeof otlpReceiverSettings)["schema"]>;
