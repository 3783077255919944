import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";

/**
 * The shipped Prometheus rules and scrape config pass promtool (Debian's prometheus package; CI
 * installs it), fire in promtool's unit tests on the situations they describe, and use only metric
 * names meshsight exports.
 */

const run = promisify(execFile);
const dir = join(dirname(fileURLToPath(import.meta.url)), "../../deploy/prometheus");
const ruleFiles = readdirSync(dir).filter((file) => /rules.*\.yml$/.test(file)).map((file) => join(dir, file));
const root = join(dir, "../..");

async function promtool(args: string[], cwd = root): Promise<string> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd, timeout: 60_000 });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    assert.fail(`promtool ${args.join(" ")} failed: ${failed.message}\n${failed.stdout ?? ""}${failed.stderr ?? ""}`);
  }
}

/** Metric names in meshsight's sources: every `name: "..."` given to prom-client. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith(".ts")) for (const match of readFileSync(child, "utf8").matchAll(/name: "((?:meshsight|probe)_\w+)"/g)) names.add(match[1]!);
    }
  };
  for (const component of ["core", "collector", "prober"]) walk(join(root, component));
  return names;
}

describe("Prometheus rules", () => {
  it("pass promtool check rules", async () => {
    assert.ok(ruleFiles.length >= 2, "recording and alerting rule files");
    const output = await promtool(["check", "rules", ...ruleFiles]);
    assert.match(output, /SUCCESS/);
  });

  it("fire as intended in promtool's rule unit tests", async () => {
    const output = await promtool(["test", "rules", "meshsight-alerts-tests.yaml"], dir);
    assert.match(output, /SUCCESS/);
  });

  it("the scrape config passes promtool check config", async () => {
    assert.match(await promtool(["check", "config", join(dir, "prometheus.yml")]), /SUCCESS/);
  });

  it("reference only metrics meshsight exports (histograms by their _bucket series)", () => {
    const exported = exportedMetricNames();
    const known = (name: string): boolean => exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ""));
    for (const file of ruleFiles) {
      const { groups } = parse(readFileSync(file, "utf8")) as { groups: { rules: { expr: string }[] }[] };
      for (const rule of groups.flatMap((group) => group.rules)) {
        for (const [name] of rule.expr.matchAll(/\b(?:meshsight|probe)_\w+/g)) assert.ok(known(name), `${file}: ${name} is not a meshsight metric`);
      }
    }
  });

  it("dashboards' Prometheus queries reference only metrics meshsight exports", () => {
    const exported = exportedMetricNames();
    const generated = join(root, "dashboards/generated");
    let checked = 0;
    for (const file of readdirSync(generated)) {
      for (const [, expr] of readFileSync(join(generated, file), "utf8").matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)) {
        for (const [name] of expr!.matchAll(/\b(?:meshsight|probe)_\w+/g)) {
          assert.ok(exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, "")), `${file}: ${name} is not a meshsight metric`);
          checked++;
        }
      }
    }
    assert.ok(checked > 10, `checked ${checked} metric references`);
  });
});
