import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { z } from "zod";
import { ConfigError } from "../../../core/config/config-error.ts";
import { coreSections } from "../../../core/config/core-sections.ts";
import { integerField } from "../../../core/config/fields.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { defineSection } from "../../../core/config/section.ts";

const dir = mkdtempSync(join(tmpdir(), "meshsight-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("expected loadConfig to throw");
}

void describe("loadConfig precedence", () => {
  void it("uses the documented defaults when nothing is set", () => {
    const config = loadConfig([], {});
    assert.equal(config.http.port, 8080);
    assert.equal(config.storage.dataDir, "./data");
    assert.equal(config.storage.clickhouse.url, undefined);
    assert.equal(config.storage.clickhouse.database, "meshsight");
    assert.equal(config.queue.redisUrl, undefined);
    assert.equal(config.server.host, "0.0.0.0");
    assert.equal(config.log.level, "info");
    assert.equal(config.tracing.otlpEndpoint, undefined);
  });

  void it("layers defaults < file < env < flags, key by key", () => {
    const file = yamlFile("layers.yaml", "http:\n  port: 1111\n  bodyLimitBytes: 2222\nstorage:\n  dataDir: /from/file\nlog:\n  level: debug\n");
    const config = loadConfig(["--config", file, "--http-port", "4444"], { MESHSIGHT_DATA_DIR: "/from/env", MESHSIGHT_HTTP_PORT: "6666" });
    assert.equal(config.http.bodyLimitBytes, 2222, "file beats default");
    assert.equal(config.storage.dataDir, "/from/env", "env beats file");
    assert.equal(config.http.port, 4444, "flag beats env and file");
    assert.equal(config.log.level, "debug");
    assert.equal(config.storage.clickhouse.database, "meshsight", "untouched keys keep their default");
  });

  void it("finds the file through MESHSIGHT_CONFIG, and --config wins over it", () => {
    const fromEnv = yamlFile("env.yaml", "storage:\n  dataDir: /from/env/file\n");
    const fromFlag = yamlFile("flag.yaml", "storage:\n  dataDir: /from/flag/file\n");
    assert.equal(loadConfig([], { MESHSIGHT_CONFIG: fromEnv }).storage.dataDir, "/from/env/file");
    assert.equal(loadConfig([`--config=${fromFlag}`], { MESHSIGHT_CONFIG: fromEnv }).storage.dataDir, "/from/flag/file");
  });

  void it("treats an empty environment variable as unset", () => {
    const config = loadConfig([], { MESHSIGHT_CLICKHOUSE_URL: "", MESHSIGHT_HTTP_PORT: "" });
    assert.equal(config.storage.clickhouse.url, undefined);
    assert.equal(config.http.port, 8080);
  });

  void it("reads nested keys and OTel's own variable names", () => {
    const config = loadConfig(["--clickhouse-database", "obs"], {
      MESHSIGHT_CLICKHOUSE_URL: "http://127.0.0.1:8123",
      MESHSIGHT_REDIS_URL: "redis://127.0.0.1:6379",
      MESHSIGHT_RETENTION_MINUTE_DAYS: "2",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317",
    });
    assert.equal(config.storage.clickhouse.url, "http://127.0.0.1:8123");
    assert.equal(config.storage.clickhouse.database, "obs");
    assert.equal(config.storage.retention.minuteDays, 2);
    assert.equal(config.queue.redisUrl, "redis://127.0.0.1:6379");
    assert.equal(config.tracing.otlpEndpoint, "http://127.0.0.1:4317");
  });

  void it("returns a frozen object, so no component can change config under another", () => {
    const config = loadConfig([], {});
    assert.ok(Object.isFrozen(config.storage.retention));
  });

  void it("accepts a section added by a component next to the core ones", () => {
    const collectorSection = defineSection(z.strictObject({ maxEndpoints: integerField(1, 100).default(10) }), [
      { key: "maxEndpoints", env: "MESHSIGHT_COLLECTOR_MAX_ENDPOINTS", flag: "collector-max-endpoints", description: "test" },
    ]);
    const config = loadConfig(["--collector-max-endpoints", "42"], {}, { ...coreSections, collector: collectorSection });
    assert.equal(config.collector.maxEndpoints, 42);
    assert.equal(config.http.port, 8080);
  });
});

void describe("loadConfig validation", () => {
  void it("names key, value, source and expectation for a bad env value", () => {
    assert.equal(
      configErrorOf(() => loadConfig([], { MESHSIGHT_HTTP_PORT: "abc" })),
      'invalid config: http.port = "abc" (from MESHSIGHT_HTTP_PORT): expected an integer 0..65535',
    );
  });

  void it("points at the flag or the file that gave the value", () => {
    assert.match(configErrorOf(() => loadConfig(["--http-port", "70000"], {})), /http\.port = "70000" \(from --http-port\)/);
    const file = yamlFile("bad.yaml", "queue:\n  maxPending: -5\n");
    assert.equal(
      configErrorOf(() => loadConfig(["--config", file], {})),
      `invalid config: queue.maxPending = -5 (from ${file}): expected an integer 1..10000000`,
    );
  });

  void it("reports every bad key on the one line", () => {
    const message = configErrorOf(() => loadConfig([], { MESHSIGHT_LOG_LEVEL: "loud", MESHSIGHT_REDIS_URL: "http://x" }));
    assert.match(message, /queue\.redisUrl = "http:\/\/x" \(from MESHSIGHT_REDIS_URL\): expected a URL starting with redis:\/\/ or rediss:\/\//);
    assert.match(message, /log\.level = "loud" \(from MESHSIGHT_LOG_LEVEL\): expected one of fatal, error, warn, info/);
    assert.ok(!message.includes("\n"));
  });

  void it("rejects unknown keys in the file, so typos do not pass silently", () => {
    const file = yamlFile("typo.yaml", "http:\n  prot: 9000\n");
    assert.equal(configErrorOf(() => loadConfig(["--config", file], {})), `invalid config: http.prot = 9000 (from ${file}): unknown key in http`);
  });

  void it("rejects unknown flags and stray arguments", () => {
    assert.equal(configErrorOf(() => loadConfig(["--htp-port", "1"], {})), "invalid command line: unknown flag --htp-port (did you mean --http-port?) (see meshsight start --help)");
    assert.equal(configErrorOf(() => loadConfig(["--zzz=1"], {})), "invalid command line: unknown flag --zzz (see meshsight start --help)");
    assert.match(configErrorOf(() => loadConfig(["extra"], {})), /^invalid command line: .*extra/);
  });

  void it("warns of MESHSIGHT_ variables no setting reads, with the likely spelling", () => {
    const warnings: string[] = [];
    loadConfig([], { MESHSIGHT_HTTP_PROT: "9", MESHSIGHT_HTTP_PORT: "9", MESHSIGHT_ZZZ: "1", HOME: "/root" }, undefined, (message) => warnings.push(message));
    assert.deepEqual(warnings, ["MESHSIGHT_HTTP_PROT is not a meshsight setting and is ignored (did you mean MESHSIGHT_HTTP_PORT?)", "MESHSIGHT_ZZZ is not a meshsight setting and is ignored"]);
  });

  void it("explains a missing or malformed config file", () => {
    assert.match(configErrorOf(() => loadConfig(["--config", join(dir, "absent.yaml")], {})), /cannot read config file .*absent\.yaml.*\(from --config\)/);
    const broken = yamlFile("broken.yaml", "http: [\n");
    assert.match(configErrorOf(() => loadConfig([], { MESHSIGHT_CONFIG: broken })), /is not valid YAML/);
    const list = yamlFile("list.yaml", "- 1\n- 2\n");
    assert.match(configErrorOf(() => loadConfig(["--config", list], {})), /must hold a YAML mapping/);
  });

  void it("masks URL passwords in error messages", () => {
    const message = configErrorOf(() => loadConfig([], { MESHSIGHT_CLICKHOUSE_URL: "ftp://admin:s3cret@db:2121" }));
    assert.ok(!message.includes("s3cret"), message);
    assert.match(message, /storage\.clickhouse\.url = "ftp:\/\/admin:\*\*\*@db:2121\/?"/);
  });
});
