/**
 * SQL literals for ClickHouse servers without query parameters (18.x; see
 * docs/architecture.md, "ClickHouse 18.16 versus current releases"). Every value that reaches SQL text goes through one of these
 * functions, so user text can never end a string literal or inject a clause: strings are quoted with
 * `\` and `'` escaped (plus control characters, so a query stays one readable line in logs), numbers
 * must be finite and integers must be safe integers in their type's range.
 */

export class SqlLiteralError extends TypeError {
  override readonly name = "SqlLiteralError";
}

/** Characters escaped inside a quoted literal, following ClickHouse's own string escape sequences. */
const ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\0": "\\0",
  "\b": "\\b",
  "\f": "\\f",
};

const NEEDS_ESCAPE = /[\\'\n\r\t\0\b\f]/g;

export function stringLiteral(value: string): string {
  if (typeof value !== "string") throw new SqlLiteralError(`expected a string, got ${typeof value}`);
  return `'${value.replace(NEEDS_ESCAPE, (char) => ESCAPES[char] ?? char)}'`;
}

/** Integer ranges ClickHouse types accept; 64-bit types are limited to what a JS number holds exactly. */
const INTEGER_RANGES: Record<string, readonly [number, number]> = {
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 4_294_967_295],
  UInt64: [0, Number.MAX_SAFE_INTEGER],
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-2_147_483_648, 2_147_483_647],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export function isIntegerType(type: string): boolean {
  return type in INTEGER_RANGES;
}

export function integerLiteral(value: number, type = "Int64"): string {
  const range = INTEGER_RANGES[type];
  if (!range) throw new SqlLiteralError(`unknown integer type ${type}`);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new SqlLiteralError(`expected a safe integer for ${type}, got ${String(value)}`);
  if (value < range[0] || value > range[1]) throw new SqlLiteralError(`${value} is out of range for ${type}`);
  return String(value);
}

export function floatLiteral(value: number): string {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new SqlLiteralError(`expected a finite number, got ${String(value)}`);
  // String() never uses a form ClickHouse cannot parse for finite numbers (e.g. 1e-7, 1.5e+300 both parse).
  return String(value);
}

/** A DateTime literal from epoch milliseconds, truncated to seconds (DateTime has seconds precision). */
export function dateTimeLiteral(epochMs: number): string {
  if (typeof epochMs !== "number" || !Number.isFinite(epochMs)) throw new SqlLiteralError(`expected epoch milliseconds, got ${String(epochMs)}`);
  const seconds = Math.floor(epochMs / 1000);
  // A number, not 'YYYY-MM-DD hh:mm:ss': text would be read in the server's time zone, a number never is.
  return `toDateTime(${integerLiteral(seconds, "UInt32")})`;
}

/** A Date literal ('YYYY-MM-DD', UTC) from epoch milliseconds. */
export function dateLiteral(epochMs: number): string {
  if (typeof epochMs !== "number" || !Number.isFinite(epochMs) || epochMs < 0) throw new SqlLiteralError(`expected non-negative epoch milliseconds, got ${String(epochMs)}`);
  return stringLiteral(new Date(epochMs).toISOString().slice(0, 10));
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A database or table name. Only plain identifiers are accepted (no quoting games): names come from
 * configuration, and a name that needs quoting is more likely a mistake than an intent.
 */
export function identifier(name: string): string {
  if (typeof name !== "string" || !IDENTIFIER.test(name) || name.length > 64) {
    throw new SqlLiteralError(`invalid identifier ${JSON.stringify(name)}: use letters, digits and _ (at most 64, not starting with a digit)`);
  }
  return name;
}
