/**
 * Which test files make the unit tier: `npm run test:unit` runs only those, for the inner loop. A file needs
 * servers when it, or a test helper it imports (transitively), starts or uses one: the real ClickHouse,
 * Redis or Alertmanager of test/services, a `meshsight` process (test/cli/cli-process.ts), a browser, or
 * any other child process. Read from the imports, so a new test lands in the right tier by itself.
 * Left out as well, though they need no server: whole-system runs (`*e2e*`), the adapter conformance suites
 * (test/conformance, also run against the servers) and the scheduling tests that wait on real time.
 */
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import ts from "typescript";

const SERVER_MODULES = ["test/services/index.ts", "test/cli/cli-process.ts"].map((path) => normalize(path));
const SERVER_PACKAGES = new Set(["playwright-core", "node:child_process", "child_process"]);

const SLOW_PATHS = [/(^|[\\/])test[\\/]conformance[\\/]/, /(^|[\\/])test[\\/]prober[\\/](scheduler|resident)[\\/]/, /e2e[^\\/]*\.test\.ts$/, /collector-ingest\.test\.ts$/];

export function isUnitTest(file: string): boolean {
  return !SLOW_PATHS.some((pattern) => pattern.test(file)) && !needsServers(file);
}

export function needsServers(file: string, seen = new Map<string, boolean>()): boolean {
  const path = normalize(file);
  const known = seen.get(path);
  if (known !== undefined) return known;
  seen.set(path, false);
  const { importedFiles } = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
  const needs = importedFiles.some(({ fileName }) => {
    if (SERVER_PACKAGES.has(fileName)) return true;
    if (!fileName.startsWith(".")) return false;
    const target = normalize(join(dirname(path), fileName));
    if (SERVER_MODULES.some((module) => target.endsWith(module))) return true;
    // Only test helpers are followed: the product's own modules start no server by being imported.
    return target.split(/[\\/]/).includes("test") && target.endsWith(".ts") && needsServers(target, seen);
  });
  seen.set(path, needs);
  return needs;
}
