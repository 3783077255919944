import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createError, ERROR_DEFINITIONS, type ErrorCode } from "../../../core/http/errors.ts";

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

  void it("uses only MS_ codes and statuses of errors", () => {
    for (const [code, definition] of Object.entries(ERROR_DEFINITIONS) as [ErrorCode, { status: number }][]) {
      assert.match(code, /^MS_[A-Z]+(_[A-Z]+)*$/);
      assert.ok(definition.status >= 400 && definition.status < 600, code);
    }
  });
});
