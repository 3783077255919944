import { z } from "zod";
import { enumField, optionalPathField, textListField } from "../../../core/config/fields.ts";
import { defineSection } from "../../../core/config/section.ts";

/** An optional name matching `pattern`; empty means unset so an env variable can switch it off. */
const optionalName = (pattern: RegExp, expected: string) =>
  z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: expected }).regex(pattern, { error: expected }).optional());

/** `service` or `service.namespace`: the namespace is split off at the one dot. */
export const SERVICE_NAME_PATTERN = /^[^\s.]+(\.[^\s.]+)?$/;
/** `pod`, `pod.namespace` or `ip:port`, which has dots of its own, so only spaces are refused. */
export const INSTANCE_NAME_PATTERN = /^\S+$/;

/** Tailing access-log files: `receivers.accessLogFiles` (docs/configuration.md "Tailing access-log files"). */
export const accessLogFilesSettings = defineSection(
  z.strictObject({
    paths: textListField("expected a list of file paths"),
    format: z.string({ error: "expected a format name or custom:<format string>" }).default("istio"),
    offsetsFile: optionalPathField(),
    identity: enumField(["static", "kubernetes"], "static"),
    service: optionalName(SERVICE_NAME_PATTERN, "expected service or service.namespace (no spaces, at most one dot)"),
    instance: optionalName(INSTANCE_NAME_PATTERN, "expected pod, pod.namespace or ip:port (no spaces)"),
    role: enumField(["auto", "sidecar", "router", "waypoint"], "auto"),
    startAt: enumField(["beginning", "end"], "beginning"),
  }),
  [
    { key: "paths", env: "MESHSIGHT_ACCESS_LOG_FILES", flag: "access-log-files", formerly: "collector.accessLogFiles", description: "Access-log files or glob patterns to tail (comma-separated; a list in YAML); none: no tailing." },
    { key: "format", env: "MESHSIGHT_ACCESS_LOG_FORMAT", flag: "access-log-format", formerly: "collector.accessLogFormat", description: "Format of tailed files: envoy, istio, json, mosn or custom:<format string>." },
    { key: "offsetsFile", env: "MESHSIGHT_ACCESS_LOG_OFFSETS_FILE", flag: "access-log-offsets-file", formerly: "collector.accessLogOffsetsFile", description: "Where tail offsets are saved (default <dataDir>/access-log-offsets.json)." },
    {
      key: "identity",
      env: "MESHSIGHT_ACCESS_LOG_IDENTITY",
      flag: "access-log-identity",
      formerly: "collector.accessLogIdentity",
      description: "Who wrote the tailed lines: static (service/instance below) or kubernetes (pod and namespace from kubelet log paths such as /var/log/pods/<ns>_<pod>_<uid>/istio-proxy/0.log).",
    },
    { key: "service", env: "MESHSIGHT_ACCESS_LOG_SERVICE", flag: "access-log-service", formerly: "collector.accessLogService", description: "service[.namespace] of the proxy writing the tailed files; with kubernetes identity, used for paths that name no pod." },
    { key: "instance", env: "MESHSIGHT_ACCESS_LOG_INSTANCE", flag: "access-log-instance", formerly: "collector.accessLogInstance", description: "pod[.namespace] or ip:port of that proxy (static identity)." },
    { key: "role", env: "MESHSIGHT_ACCESS_LOG_ROLE", flag: "access-log-role", formerly: "collector.accessLogRole", description: "sidecar, router (gateway) or waypoint; auto: router for gateway pods, else sidecar." },
    { key: "startAt", env: "MESHSIGHT_ACCESS_LOG_START_AT", flag: "access-log-start-at", formerly: "collector.accessLogStartAt", description: "Where to start a file with no saved offset when meshsight starts: beginning or end (skip its history)." },
  ],
);

export type AccessLogFilesConfig = z.output<(typeof accessLogFilesSettings)["schema"]>;
