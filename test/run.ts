/**
 * `npm test`'s runner: starts one real ClickHouse, Redis and Alertmanager for the whole run, runs every
 * test file with Node's test runner (so CI counts the tests), and stops the servers whatever happens.
 * Arguments narrow the files: `tsx test/run.ts test/core` runs only the tests under test/core.
 * `--unit` (`npm run test:unit`) runs only the unit tier (test/tiers.ts: no server, no whole-system run) and starts no
 * server. Its files run in two processes (one a core), each importing its share once (test/unit-tier.ts): a
 * process per file spent most of the tier's CPU loading the same modules again.
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { startAlertmanager, startClickHouse, startRedis, type RunningService } from "./services/index.ts";
import { isUnitTest } from "./tiers.ts";

function testFiles(root: string): string[] {
  if (statSync(root).isFile()) return [root];
  return readdirSync(root)
    .sort()
    .flatMap((entry) => {
      const path = join(root, entry);
      if (statSync(path).isDirectory()) return entry === "artifacts" ? [] : testFiles(path);
      return entry.endsWith(".test.ts") ? [path] : [];
    });
}

const args = process.argv.slice(2);
const isUnitOnly = args.includes("--unit");
const roots = args.filter((arg) => arg !== "--unit");
const found = (roots.length > 0 ? roots : ["test"]).flatMap(testFiles);
const files = isUnitOnly ? found.filter(isUnitTest) : found;
const UNIT_PROCESSES = 2;

/** Runs `shard` in one process; its report is printed whole when it ends, so two shards' reports do not interleave. */
function runUnitShard(shard: string[]): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", "--test-reporter=spec", join(import.meta.dirname, "unit-tier.ts"), ...shard], { stdio: ["ignore", "pipe", "inherit"] });
  const output: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      process.stdout.write(Buffer.concat(output));
      resolve(code ?? 1);
    }),
  );
}

if (isUnitOnly) {
  process.stdout.write(`unit tier: ${files.length} of ${found.length} test files, no servers, ${UNIT_PROCESSES} processes\n`);
  const shards = Array.from({ length: UNIT_PROCESSES }, (_unused, index) => files.filter((_file, at) => at % UNIT_PROCESSES === index));
  const codes = await Promise.all(shards.map(runUnitShard));
  process.exit(codes.find((code) => code !== 0) ?? 0);
}

const started: RunningService[] = [];
let exitCode: number;
try {
  const [clickhouse, redis, alertmanager] = await Promise.all([startClickHouse(), startRedis(), startAlertmanager()]);
  started.push(clickhouse, redis, alertmanager);
  process.stdout.write(`test services: clickhouse ${clickhouse.url}, redis ${redis.url}, alertmanager ${alertmanager.url}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, MESHSIGHT_TEST_CLICKHOUSE_URL: clickhouse.url, MESHSIGHT_TEST_REDIS_URL: redis.url, MESHSIGHT_TEST_ALERTMANAGER_URL: alertmanager.url };
  const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=300000", ...files], { stdio: "inherit", env });
  exitCode = await new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
} finally {
  await Promise.allSettled(started.map((service) => service.stop()));
}
process.exit(exitCode);
