/**
 * What `npm pack` puts in the published package: the bin and the compiled JavaScript under dist/ (a package
 * installed from the registry runs no `prepare` script, so dist/ must travel in it), and none of the
 * TypeScript sources, tests or benchmarks. Checked with npm's own file selection on the repository's
 * package.json in a scratch folder that holds one file of each kind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

const PLACEHOLDERS = ["dist/cli.js", "dist/core/config/schema.sql", "cli.ts", "core/config/config.ts", "test/run.ts", "bench/aggregate.ts", "docs/architecture.md"];

async function packedFiles(folder: string): Promise<string[]> {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: folder, timeout: 60_000 });
  const reports = JSON.parse(stdout) as { files: { path: string }[] }[];
  return reports.flatMap((report) => report.files.map((file) => file.path)).sort();
}

test("the packed package holds the bin, package.json, the README, the license and dist/, and no sources, tests or benchmarks", async () => {
  const folder = await mkdtemp(join(tmpdir(), "meshsight-pack-"));
  try {
    for (const file of ["package.json", "README.md", "LICENSE", "bin/meshsight.mjs"]) {
      await mkdir(dirname(join(folder, file)), { recursive: true });
      await copyFile(join(REPO_ROOT, file), join(folder, file));
    }
    for (const file of PLACEHOLDERS) {
      await mkdir(dirname(join(folder, file)), { recursive: true });
      await writeFile(join(folder, file), "placeholder\n");
    }
    assert.deepEqual(await packedFiles(folder), ["LICENSE", "README.md", "bin/meshsight.mjs", "dist/cli.js", "dist/core/config/schema.sql", "package.json"]);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
