import { floatLiteral, integerLiteral, isIntegerType, SqlLiteralError, stringLiteral } from "./sql-literals.ts";

/**
 * One SQL text, two ways to bind its values. Queries are written with ClickHouse's own placeholders,
 * `{name:Type}`; servers with query parameters receive them as `query_params` (the server parses the
 * values, nothing is spliced into SQL); older servers (18.x) get each placeholder replaced by a literal
 * from sql-literals.ts. Both paths validate values the same way, so a query that works on a test server
 * (18.16) fails on the same inputs on a current one.
 */

export type QueryParamValue = string | number;
export type QueryParams = Readonly<Record<string, QueryParamValue>>;

export interface BoundQuery {
  query: string;
  /** Present only when the server binds the values itself. */
  query_params?: Record<string, QueryParamValue>;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9]+)\}/g;

function literalFor(name: string, type: string, value: QueryParamValue | undefined): string {
  if (value === undefined) throw new SqlLiteralError(`query parameter ${name} has no value`);
  if (type === "String") {
    if (typeof value !== "string") throw new SqlLiteralError(`query parameter ${name} must be a string`);
    return stringLiteral(value);
  }
  if (typeof value !== "number") throw new SqlLiteralError(`query parameter ${name} must be a number`);
  if (isIntegerType(type)) return integerLiteral(value, type);
  if (type === "Float64" || type === "Float32") return floatLiteral(value);
  throw new SqlLiteralError(`query parameter ${name} has unsupported type ${type}`);
}

export function bindQuery(sql: string, params: QueryParams, serverBindsParams: boolean): BoundQuery {
  const literalQuery = sql.replace(PLACEHOLDER, (_match, name: string, type: string) => literalFor(name, type, params[name]));
  if (!serverBindsParams) return { query: literalQuery };
  // Validation above ran for every placeholder; the server gets the untouched SQL and the raw values.
  const used: Record<string, QueryParamValue> = {};
  for (const match of sql.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    const value = params[name];
    if (value !== undefined) used[name] = value;
  }
  return { query: sql, query_params: used };
}
