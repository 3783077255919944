/**
 * `npm run dashboards`: writes dashboards/generated/*.json from dashboards/src. The JSON is committed;
 * test/dashboards/drift.test.ts fails when it no longer matches the source.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allDashboards, renderDashboard } from "./src/all-dashboards.ts";

const outputDir = join(dirname(fileURLToPath(import.meta.url)), "generated");
mkdirSync(outputDir, { recursive: true });
for (const { file, dashboard } of allDashboards()) {
  writeFileSync(join(outputDir, file), renderDashboard(dashboard));
  process.stdout.write(`wrote dashboards/generated/${file}\n`);
}
