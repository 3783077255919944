import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sections } from "../../../cli-sections.ts";
import { loadConfig } from "../../../core/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "meshsight-receivers-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string, argv: string[] = [], env: Record<string, string> = {}) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const deprecations: string[] = [];
  const config = loadConfig(["--config", file, ...argv], env, sections, (message) => deprecations.push(message));
  return { config, deprecations };
}

void describe("receivers section: each receiver's settings under its own key", () => {
  void it("has the ports meshes already point at and the documented bounds by default", () => {
    const { receivers } = load("").config;
    assert.deepEqual(receivers.als, { port: 11_800, maxStreams: 10_000, maxConnectionAgeMs: 600_000, maxConnectionAgeGraceMs: 30_000 });
    assert.deepEqual(receivers.otlp, { grpcPort: 4317, httpPort: 4318 });
    assert.deepEqual(receivers.zipkin, { port: 9411 });
    assert.deepEqual(receivers.spanRequests, { maxSpans: 50_000, maxBytes: 64 * 1024 * 1024 });
    assert.deepEqual(receivers.accessLogFiles.paths, []);
    assert.equal(receivers.accessLogFiles.format, "istio");
  });

  void it("keeps the environment variables and flags the settings had before", () => {
    const { config } = load("", ["--als-port", "4444", "--access-log-files", "/var/log/a.log,/var/log/b.log"], {
      MESHSIGHT_ALS_MAX_STREAMS: "7",
      MESHSIGHT_ZIPKIN_PORT: "5555",
      MESHSIGHT_TRACE_MAX_SPANS_PER_REQUEST: "100",
      MESHSIGHT_ACCESS_LOG_FORMAT: "envoy",
    });
    assert.equal(config.receivers.als.port, 4444);
    assert.equal(config.receivers.als.maxStreams, 7);
    assert.equal(config.receivers.zipkin.port, 5555);
    assert.equal(config.receivers.spanRequests.maxSpans, 100);
    assert.deepEqual(config.receivers.accessLogFiles.paths, ["/var/log/a.log", "/var/log/b.log"]);
    assert.equal(config.receivers.accessLogFiles.format, "envoy");
  });

  void it("reads a config file's former keys in their new place, one deprecation warning each", () => {
    const { config, deprecations } = load(
      [
        "receivers:",
        "  alsPort: 2222",
        "  otlpHttpPort: 3333",
        "collector:",
        "  flushIntervalSeconds: 5",
        "  alsMaxConnectionAgeMs: 300000",
        "  accessLogFiles: [/var/log/envoy.log]",
        "  accessLogService: reviews.default",
        "traces:",
        "  maxRequestBytes: 2048",
        "  sampleRate: 0.5",
        "",
      ].join("\n"),
    );
    assert.equal(config.receivers.als.port, 2222);
    assert.equal(config.receivers.otlp.httpPort, 3333);
    assert.equal(config.receivers.als.maxConnectionAgeMs, 300_000);
    assert.deepEqual(config.receivers.accessLogFiles.paths, ["/var/log/envoy.log"]);
    assert.equal(config.receivers.accessLogFiles.service, "reviews.default");
    assert.equal(config.receivers.spanRequests.maxBytes, 2048);
    assert.equal(config.collector.flushIntervalSeconds, 5, "keys that stay in collector are read as before");
    assert.equal(config.traces.sampleRate, 0.5);
    assert.deepEqual(
      deprecations.map((message) => message.replace(/^.*?: /, "")),
      [
        "receivers.alsPort is deprecated, read as receivers.als.port; move it there",
        "collector.alsMaxConnectionAgeMs is deprecated, read as receivers.als.maxConnectionAgeMs; move it there",
        "receivers.otlpHttpPort is deprecated, read as receivers.otlp.httpPort; move it there",
        "traces.maxRequestBytes is deprecated, read as receivers.spanRequests.maxBytes; move it there",
        "collector.accessLogFiles is deprecated, read as receivers.accessLogFiles.paths; move it there",
        "collector.accessLogService is deprecated, read as receivers.accessLogFiles.service; move it there",
      ],
    );
  });

  void it("refuses an unknown key inside a receiver's settings by its full path", () => {
    assert.throws(() => load("receivers:\n  als:\n    prot: 1\n"), /receivers\.als/);
  });
});
