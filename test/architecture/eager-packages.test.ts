/**
 * What a command loads before it does anything: the packages reachable through static imports (type
 * imports are erased; dynamic imports load later, when a path needs them). Loading them is most of a
 * command's start-up CPU (docs/architecture.md "Import rules"; bench/README.md has the figures), so a new
 * static import of a heavy package on these paths must be a deliberate choice. Read from esbuild's import
 * graph of the sources, offline.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Modules that load a CommonJS package with `createRequire` when they are loaded, which esbuild cannot see. */
const REQUIRED_ON_LOAD: Readonly<Record<string, string>> = {
  "core/storage/duckdb/duckdb-api.ts": "@duckdb/node-api",
  "core/http/app.ts": "fastify",
  "collector/receivers/grpc-api.ts": "@grpc/grpc-js",
};

/** The packages `entries` load at once: external imports reached from them by static imports only. */
async function eagerPackages(entries: readonly string[]): Promise<Set<string>> {
  const { metafile } = await build({ entryPoints: [...entries], absWorkingDir: REPO_ROOT, bundle: true, write: false, metafile: true, packages: "external", platform: "node", format: "esm", outdir: "out" });
  const seen = new Set<string>(entries);
  const queue = [...entries];
  const packages = new Set<string>();
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imported of metafile.inputs[file]?.imports ?? []) {
      if (imported.kind !== "import-statement") continue;
      if (imported.external) {
        if (!imported.path.startsWith("node:")) packages.add(imported.path.startsWith("@") ? imported.path.split("/").slice(0, 2).join("/") : (imported.path.split("/")[0] ?? ""));
      } else if (!seen.has(imported.path)) {
        seen.add(imported.path);
        const required = REQUIRED_ON_LOAD[imported.path];
        if (required !== undefined) packages.add(required);
        queue.push(imported.path);
      }
    }
  }
  return packages;
}

/** Each costs ~0.05-0.6 CPU-s to load and is needed only by some paths. */
const HEAVY = ["@kubernetes/client-node", "ioredis", "bullmq", "cron-parser", "esbuild", "@grpc/grpc-js", "@grpc/proto-loader", "fastify", "@opentelemetry/api", "@duckdb/node-api", "@clickhouse/client", "yaml"];

void describe("packages loaded before a command runs", () => {
  void it("`meshsight ingest` (cli.ts, the collector's entry) loads no server, cluster, queue or storage client up front", async () => {
    const eager = await eagerPackages(["cli.ts", "collector/collector.ts"]);
    assert.deepEqual(HEAVY.filter((name) => eager.has(name)), []);
  });

  void it("`meshsight start` loads the Kubernetes client, Redis, cron and esbuild only when used", async () => {
    const eager = await eagerPackages(["cli.ts", "collector/collector.ts", "prober/prober.ts", "analyzer/analyzer.ts", "dashboards/dashboards.ts"]);
    assert.deepEqual(["@kubernetes/client-node", "ioredis", "bullmq", "cron-parser", "esbuild"].filter((name) => eager.has(name)), []);
  });
});
