/**
 * The image installs production dependencies only (`npm ci --omit=dev`, which builds dist/ from the sources):
 * every package the runtime code imports must then be a production dependency, and every file it imports
 * must be inside what the Dockerfile copies. Checked offline from the import lists TypeScript reads.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The words of the Dockerfile's `COPY <paths> <dest>` lines before the destination (the lock file's line aside). */
function copyLines(dockerfile: string): { fromStage: boolean; sources: string[] }[] {
  return dockerfile
    .split("\n")
    .filter((line) => line.startsWith("COPY ") && !line.includes("package-lock.json"))
    .map((line) => ({ fromStage: line.includes("--from="), sources: line.slice("COPY ".length).trim().split(/\s+/).slice(0, -1) }));
}

/** The paths copied from the build context. */
function contextPaths(dockerfile: string): string[] {
  return copyLines(dockerfile).flatMap((line) => (line.fromStage ? [] : line.sources));
}

/**
 * What the image holds besides node_modules: the context's paths, and what the final stage takes from the
 * build stage (`COPY --from=build /app/dist ...`: dist/, which `npm ci` built there from those sources).
 */
function copiedPaths(dockerfile: string): string[] {
  const built = copyLines(dockerfile).flatMap((line) => (line.fromStage ? line.sources.filter((word) => word.startsWith("/app/") && word !== "/app/node_modules") : []));
  return [...contextPaths(dockerfile), ...built.map((word) => word.slice("/app/".length))];
}

async function runtimeFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (/\.(ts|mjs)$/.test(path)) files.push(path);
    else if (!path.includes(".")) {
      const entries = await readdir(join(REPO_ROOT, path), { withFileTypes: true, recursive: true });
      for (const entry of entries) if (entry.isFile() && /\.(ts|mjs)$/.test(entry.name)) files.push(relative(REPO_ROOT, join(entry.parentPath, entry.name)));
    }
  }
  return files;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

test("the image runs on node:20-slim with production dependencies, and the runtime imports nothing else", async () => {
  const dockerfile = await readFile(join(REPO_ROOT, "Dockerfile"), "utf8");
  assert.match(dockerfile, /^FROM node:20-slim\b/m);
  assert.match(dockerfile, /npm ci --omit=dev/);
  const packageJson = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
  const copied = copiedPaths(dockerfile);
  assert.ok(copied.includes("cli.ts") && copied.includes("core") && copied.includes("scripts") && copied.includes("dist"), `copies ${copied.join(" ")}`);
  const builtins = new Set(builtinModules);
  const missingPackages = new Set<string>();
  const uncopiedFiles = new Set<string>();
  // dist/ is compiled inside the image from the sources the context holds, so the sources are what is read.
  for (const file of await runtimeFiles(contextPaths(dockerfile))) {
    const source = await readFile(join(REPO_ROOT, file), "utf8");
    for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
      if (specifier.startsWith(".")) {
        const target = relative(REPO_ROOT, resolve(REPO_ROOT, file, "..", specifier));
        if (!copied.some((path) => target === path || target.startsWith(`${path}/`))) uncopiedFiles.add(`${file} -> ${target}`);
      } else if (!specifier.startsWith("node:") && !builtins.has(specifier)) {
        const name = packageName(specifier);
        // The probe SDK's self-reference (custom probe scripts import "meshsight/...") resolves to this package.
        if (name !== packageJson.name && packageJson.dependencies[name] === undefined) missingPackages.add(`${file}: ${name}`);
      }
    }
  }
  assert.deepEqual([...missingPackages], [], "imported by runtime code but not a production dependency");
  assert.deepEqual([...uncopiedFiles], [], "imported by runtime code but not copied into the image");
});

test(".dockerignore keeps local state and dependencies out of the build context", async () => {
  const ignored = (await readFile(join(REPO_ROOT, ".dockerignore"), "utf8")).split("\n").map((line) => line.trim());
  for (const path of [".git", "node_modules", "data"]) assert.ok(ignored.includes(path), path);
  const copied = contextPaths(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8"));
  assert.deepEqual(copied.filter((path) => ignored.includes(path)), [], "the Dockerfile copies nothing the context leaves out");
});
