import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { CLICKHOUSE, MESHSIGHT_API, PROMETHEUS, ZIPKIN } from "../../dashboards/src/datasources.ts";

/** The provisioning files give Grafana exactly the data sources the dashboards' variables default to. */

const dir = join(dirname(fileURLToPath(import.meta.url)), "../../dashboards/provisioning");

describe("Grafana provisioning", () => {
  it("provisions one data source per kind the dashboards use, with the uid and plugin they expect", () => {
    const { apiVersion, datasources } = parse(readFileSync(join(dir, "datasources/meshsight.yaml"), "utf8")) as { apiVersion: number; datasources: { uid: string; type: string; name: string }[] };
    assert.equal(apiVersion, 1);
    for (const kind of [CLICKHOUSE, PROMETHEUS, ZIPKIN, MESHSIGHT_API]) {
      const provisioned = datasources.find((source) => source.uid === kind.provisionedUid);
      assert.ok(provisioned, `${kind.label} provisioned as ${kind.provisionedUid}`);
      assert.equal(provisioned.type, kind.pluginType);
    }
  });

  it("has a file dashboard provider", () => {
    const { providers } = parse(readFileSync(join(dir, "dashboards/meshsight.yaml"), "utf8")) as { providers: { type: string; options: { path: string } }[] };
    assert.equal(providers[0]?.type, "file");
    assert.ok(providers[0]?.options.path.startsWith("/"));
  });
});
