import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createError, ERROR_DEFINITIONS, type ErrorCode } from "../../../core/http/errors.ts";

const repoRoot = new URL("../../../", import.meta.url);
const docs = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

/** Rows of the docs tables: | `MS_X` | status | message | when | */
function documentedRows(): Map<string, { status: number; message: string }> {
  const rows = new Map<string, { status: number; message: string }>();
  for (const match of docs.matchAll(/^\| `(MS_[A-Z_]+)` \| (\d+) \| ([^|]+) \|/gm)) {
    rows.set(match[1]!, { status: Number(match[2]), message: match[3]!.trim() });
  }
  return rows;
}

void describe("error registry", () => {
  void it("documents every code with its status and message in docs/errors.md", () => {
    const rows = documentedRows();
    for (const [code, definition] of Object.entries(ERROR_DEFINITIONS)) {
      const row = rows.get(code);
      assert.ok(row, `${code} is missing from docs/errors.md`);
      assert.equal(row.status, definition.status, `${code}: status in docs differs`);
      assert.equal(row.message, definition.message, `${code}: message in docs differs`);
    }
  });

  void it("documents no code that does not exist", () => {
    const unknown = [...documentedRows().keys()].filter((code) => !(code in ERROR_DEFINITIONS));
    assert.deepEqual(unknown, []);
    const mentioned = [...docs.matchAll(/MS_[A-Z_]+/g)].map((match) => match[0]).filter((code) => !(code in ERROR_DEFINITIONS));
    assert.deepEqual(mentioned, []);
  });

  void it("fills message placeholders and carries code and status", () => {
    const error = createError("MS_ROUTE_NOT_FOUND", { method: "GET", url: "/nope" });
    assert.equal(error.code, "MS_ROUTE_NOT_FOUND");
    assert.equal(error.statusCode, 404);
    assert.equal(error.message, "no route for GET /nope");
    assert.equal(createError("MS_UNAUTHORIZED").message, "missing or invalid bearer token");
  });

  void it("is the only place MS_ codes come from: product sources name no code it lacks", () => {
    const sourceDirs = ["core", "collector", "prober", "analyzer", "dashboards"];
    const sources = sourceDirs
      .filter((dir) => existsSync(new URL(dir, repoRoot)))
      .flatMap((dir) =>
      readdirSync(new URL(dir, repoRoot), { recursive: true, encoding: "utf8" })
        .filter((path) => path.endsWith(".ts"))
        .map((path) => `${dir}/${path}`),
    );
    sources.push("cli.ts");
    assert.ok(sources.length > 20, "the source scan found the product's files");
    const unknown = sources.flatMap((path) =>
      [...readFileSync(new URL(path, repoRoot), "utf8").matchAll(/["'`](MS_[A-Z_]+)["'`]/g)]
        .map((match) => match[1]!)
        .filter((code) => !(code in ERROR_DEFINITIONS))
        .map((code) => `${path}: ${code}`),
    );
    assert.deepEqual(unknown, []);
  });

  void it("names what a 415 route accepts in its message", () => {
    const error = createError("MS_UNSUPPORTED_MEDIA_TYPE", { contentType: "text/xml", accepted: "application/json" });
    assert.equal(error.statusCode, 415);
    assert.equal(error.message, "unsupported content type text/xml; send application/json");
    assert.equal(createError("MS_INGEST_BUSY").statusCode, 429);
  });

  void it("uses only MS_ codes and statuses of errors", () => {
    for (const [code, definition] of Object.entries(ERROR_DEFINITIONS) as [ErrorCode, { status: number }][]) {
      assert.match(code, /^MS_[A-Z]+(_[A-Z]+)*$/);
      assert.ok(definition.status >= 400 && definition.status < 600, code);
    }
  });
});
