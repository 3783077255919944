import { z } from "zod";
import { optionalUrlField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** Self-tracing keeps the OpenTelemetry variable names so it behaves like every other OTel-instrumented process. */
export const tracingSection = defineSection(
  z.strictObject({
    otlpEndpoint: optionalUrlField(["http", "https"]),
    serviceName: textField("meshsight"),
  }),
  [
    {
      key: "otlpEndpoint",
      env: "OTEL_EXPORTER_OTLP_ENDPOINT",
      flag: "otlp-endpoint",
      description: "OTLP gRPC endpoint receiving meshsight's own traces; self-tracing is off when unset.",
    },
    { key: "serviceName", env: "OTEL_SERVICE_NAME", flag: "otel-service-name", description: "service.name of meshsight's own traces." },
  ],
);
