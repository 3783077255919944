/**
 * What Grafana's ClickHouse data source does to a panel's SQL before ClickHouse sees it, in its order:
 * the frontend (src/data/CHDatasource.ts applyTemplateVariables) first replaces `$__conditionalAll(cond,
 * $var)` by `1=1` when the variable is All or empty, then interpolates template variables (a single
 * value as is, several as 'a','b'); the backend (pkg/macros/macros.go) then expands the `$__` macros
 * with the query's time range and interval. Anything left unexpanded is an error here, so a typo in a
 * panel fails the test instead of reaching users.
 */

export const ALL = "$__all";

export interface QueryContext {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  /** A variable's current value: one value, several, or ALL (then `allValues` are what Grafana sends). */
  variables: Record<string, { value: string | string[]; allValues?: string[] }>;
}

/** The text between the macro's parentheses split on top-level commas; `open` indexes the "(". */
function macroArgs(sql: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < sql.length; i++) {
    const char = sql[i];
    if (char === "(") depth++;
    else if (char === ")") {
      depth--;
      if (depth === 0) {
        args.push(sql.slice(start, i));
        return { args, end: i + 1 };
      }
    } else if (char === "," && depth === 1) {
      args.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error(`unbalanced parentheses after position ${open} in: ${sql}`);
}

export function applyConditionalAll(sql: string, context: QueryContext): string {
  const macro = "$__conditionalAll(";
  let result = sql;
  for (let index = result.lastIndexOf(macro); index !== -1; index = result.lastIndexOf(macro)) {
    const { args, end } = macroArgs(result, index + macro.length - 1);
    if (args.length !== 2) throw new Error(`$__conditionalAll takes 2 arguments, got ${args.length}`);
    const name = /\$\{?(\w+)\}?/.exec(args[1]!.trim())?.[1];
    const current = name === undefined ? undefined : context.variables[name]?.value;
    const phrase = current === ALL || current === "" ? "1=1" : args[0]!;
    result = result.slice(0, index) + phrase + result.slice(end);
  }
  return result;
}

/** Grafana's template interpolation with the ClickHouse data source's formatter (CHDatasource.format). */
export function interpolateVariables(sql: string, context: QueryContext): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (match, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? "";
    const variable = context.variables[name];
    if (variable === undefined) throw new Error(`template variable ${match} is not defined`);
    const values = variable.value === ALL ? (variable.allValues ?? []) : variable.value;
    if (format === "regex") return Array.isArray(values) ? `(${values.join("|")})` : values;
    return Array.isArray(values) ? `'${values.join("','")}'` : values;
  });
}

function toDateTime(ms: number): string {
  return `toDateTime(${Math.floor(ms / 1000)})`;
}

function toDateTime64(ms: number): string {
  return `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
}

function toDate(ms: number): string {
  return `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
}

type Macro = (args: string[], context: QueryContext) => string;

function oneArgument(name: string, args: string[]): string {
  if (args.length !== 1 || args[0]!.trim() === "") throw new Error(`$__${name} takes 1 argument, got ${args.length}`);
  return args[0]!.trim();
}

const MACROS: Record<string, Macro> = {
  fromTime: (_args, c) => toDateTime(c.fromMs),
  toTime: (_args, c) => toDateTime(c.toMs),
  fromTime_ms: (_args, c) => toDateTime64(c.fromMs),
  toTime_ms: (_args, c) => toDateTime64(c.toMs),
  timeFilter: (args, c) => {
    const column = oneArgument("timeFilter", args);
    return `${column} >= ${toDateTime(c.fromMs)} AND ${column} <= ${toDateTime(c.toMs)}`;
  },
  timeFilter_ms: (args, c) => {
    const column = oneArgument("timeFilter_ms", args);
    return `${column} >= ${toDateTime64(c.fromMs)} AND ${column} <= ${toDateTime64(c.toMs)}`;
  },
  dateFilter: (args, c) => {
    const column = oneArgument("dateFilter", args);
    return `${column} >= ${toDate(c.fromMs)} AND ${column} <= ${toDate(c.toMs)}`;
  },
  timeInterval: (args, c) => `toStartOfInterval(toDateTime(${oneArgument("timeInterval", args)}), INTERVAL ${Math.max(Math.floor(c.intervalMs / 1000), 1)} second)`,
  timeInterval_ms: (args, c) => `toStartOfInterval(toDateTime64(${oneArgument("timeInterval_ms", args)}, 3), INTERVAL ${Math.max(Math.floor(c.intervalMs), 1)} millisecond)`,
  interval_s: (_args, c) => String(Math.max(Math.floor(c.intervalMs / 1000), 1)),
};

export function expandMacros(sql: string, context: QueryContext): string {
  // Longest names first, so $__timeFilter_ms is not read as $__timeFilter followed by "_ms".
  const names = Object.keys(MACROS).sort((a, b) => b.length - a.length);
  let result = "";
  let rest = sql;
  for (let index = rest.indexOf("$__"); index !== -1; index = rest.indexOf("$__")) {
    result += rest.slice(0, index);
    const name = names.find((candidate) => rest.startsWith(candidate, index + 3) && !/\w/.test(rest[index + 3 + candidate.length] ?? ""));
    if (name === undefined) throw new Error(`unknown macro at: ${rest.slice(index, index + 30)}`);
    let after = index + 3 + name.length;
    let args: string[] = [];
    if (rest[after] === "(") ({ args, end: after } = macroArgs(rest, after));
    result += MACROS[name]!(args, context);
    rest = rest.slice(after);
  }
  return result + rest;
}

export function expandPanelSql(sql: string, context: QueryContext): string {
  return expandMacros(interpolateVariables(applyConditionalAll(sql, context), context), context);
}
