import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { newAccessLogEntry } from "../../../core/model/access-log.ts";
import type { LineParser, LineRejectReason } from "./entry.ts";

/** Writes one field's value, read from `text[start, end)`, into the entry; returns a reject reason when invalid. */
export type FieldSetter = (entry: AccessLogEntry, text: string, start: number, end: number) => LineRejectReason | null;

/** What an operator means to the compiler: where its value goes (null = recognised or not, but unused). */
export interface OperatorSpec {
  setter: FieldSetter | null;
  /**
   * Characters the value always has before the next separator may occur; lets values that contain the
   * separator themselves (MOSN's `2006/01/02 15:04:05.000` start time) be scanned like any other field.
   */
  minWidth: number;
}

/** `%%` escapes a percent in Envoy formats, `\%` in MOSN formats. */
export type FormatDialect = "envoy" | "mosn";

export interface CompileOptions {
  dialect: FormatDialect;
  resolveOperator(token: string): OperatorSpec;
  /** Start time for entries whose format has no start-time operator (the receive time). */
  now: () => number;
}

interface CompiledField {
  spec: OperatorSpec;
  /** The literal text that follows this field ("" only for a trailing field). */
  followedBy: string;
  /** A quoted field may hold spaces, so it ends at the whole closing literal, not its first character. */
  isQuoted: boolean;
  /** followedBy's first character, what an unquoted field's end is searched for. */
  separatorStart: string;
  /**
   * Most separators are one space: finding its character is then the whole match, and skipping the
   * startsWith check per field is ~5 % of the access-log path.
   */
  isOneCharSeparator: boolean;
}

const UNUSED_FIELD: OperatorSpec = { setter: null, minWidth: 0 };

/** Splits a format string into literal text and operator tokens (`%NAME%`, `%NAME(ARG)%`, `%NAME(ARG):LEN%`). */
function tokenize(format: string, dialect: FormatDialect): { literals: string[]; tokens: string[] } {
  const literals: string[] = [];
  const tokens: string[] = [];
  let literal = "";
  let i = 0;
  while (i < format.length) {
    const char = format[i];
    if (dialect === "mosn" && char === "\\" && format[i + 1] === "%") {
      literal += "%";
      i += 2;
    } else if (char === "%" && dialect === "envoy" && format[i + 1] === "%") {
      literal += "%";
      i += 2;
    } else if (char === "%") {
      // An argument may hold `%` itself (`%START_TIME(%s.%3f)%`), so the operator closes after its `)`.
      const open = format.indexOf("(", i + 1);
      const nextPercent = format.indexOf("%", i + 1);
      const argumentEnd = open >= 0 && open < nextPercent ? format.indexOf(")", open) : -1;
      const close = format.indexOf("%", argumentEnd >= 0 ? argumentEnd : i + 1);
      if (close < 0) throw new Error(`access-log format: unterminated operator at offset ${i} in ${JSON.stringify(format)}`);
      literals.push(literal);
      tokens.push(format.slice(i + 1, close));
      literal = "";
      i = close + 1;
    } else {
      literal += char;
      i++;
    }
  }
  literals.push(literal);
  return { literals, tokens };
}

/** Formats end in a newline (real or the two characters `\n` from a YAML/JSON config); lines arrive without one. */
function withoutTrailingNewline(format: string): string {
  if (format.endsWith("\\n")) return format.slice(0, -2);
  return format.replace(/\r?\n$/, "");
}

/**
 * Compiles an Envoy (or MOSN) format string ONCE into a parser that walks each line with the literal
 * separators between operators: a field ends at the next occurrence of the following literal's first
 * character (or the whole literal for quoted fields), `-` means unset, and only fields some operator maps to
 * an entry field are ever decoded. No regular expression runs per line.
 */
export function compileFormat(format: string, options: CompileOptions): LineParser {
  const { literals, tokens } = tokenize(withoutTrailingNewline(format), options.dialect);
  if (tokens.length === 0) throw new Error(`access-log format has no operators: ${JSON.stringify(format)}`);
  const fields: CompiledField[] = tokens.map((token, index) => {
    const before = literals[index] ?? "";
    const after = literals[index + 1] ?? "";
    if (after === "" && index < tokens.length - 1) {
      throw new Error(`access-log format: operators %${token}% and %${tokens[index + 1] ?? ""}% have no separator between them`);
    }
    return {
      spec: options.resolveOperator(token) ?? UNUSED_FIELD,
      followedBy: after,
      isQuoted: before.endsWith('"') && after.startsWith('"'),
      separatorStart: after.slice(0, 1),
      isOneCharSeparator: after.length === 1,
    };
  });
  const hasStartTime = tokens.some((token) => /^START_TIME\b/i.test(token));
  const hasProtocol = tokens.some((token) => /^PROTOCOL$/i.test(token));
  return generateParser(literals[0] ?? "", fields, { hasStartTime, hasProtocol }, options.now);
}

/**
 * A record that names a request method and path is an HTTP request, whether or not its format printed
 * the protocol (many custom formats leave %PROTOCOL% out); TCP proxies log neither. Called only where no
 * protocol value was given, so a protocol the line does state always wins.
 */
export function takeHttpFromRequestLine(entry: AccessLogEntry): void {
  if (entry.protocol === "tcp" && entry.method !== "" && entry.path !== "") entry.protocol = "http";
}

/** What the format prints: without a start time the receive time stands in; without a protocol, the request line decides. */
interface Prints {
  hasStartTime: boolean;
  hasProtocol: boolean;
}

/**
 * Whether the field holds a value: not empty and not `-` (Envoy's and MOSN's "unset"), which never reach a
 * setter. Written into the source rather than called: in a function of two dozen fields V8 stops inlining
 * calls, and a call per field was ~1 % of the ingest path.
 */
const IS_SET_VALUE = "fieldEnd !== position && (fieldEnd - position !== 1 || text.charCodeAt(position) !== 45)";

/**
 * The statements that find one field's end in `text` from `position` and hand its value to its setter. The
 * rules are the same for every format: a quoted field ends at its whole closing literal; an unquoted one at
 * the next occurrence of the literal's first character (after its minimum width), checked to be the whole
 * literal; the last field runs to the line end and, unquoted, must not contain its own leading separator (a
 * line with more fields than the format: another version's format, or two lines glued together). A bad
 * value only decides the reason once the whole line proved to have this format's shape, so a line of
 * another format is a field_count reject whatever value happened to land where a number was expected.
 */
function fieldStatements(field: CompiledField, precededBy: string, isLast: boolean, setterName: string | null): string {
  const separator = field.followedBy;
  const literal = (text: string): string => JSON.stringify(text);
  const searchFrom = field.spec.minWidth > 0 ? `position + ${field.spec.minWidth}` : "position";
  const lines: string[] = [];
  if (isLast) {
    lines.push(`fieldEnd = end - ${separator.length};`);
    lines.push(`if (fieldEnd < position${separator === "" ? "" : ` || !text.startsWith(${literal(separator)}, fieldEnd)`}) return "field_count";`);
    if (!field.isQuoted && precededBy.length > 0) {
      lines.push(`found = text.indexOf(${literal(precededBy)}, ${searchFrom});`);
      lines.push(`if (found >= 0 && found + ${precededBy.length} <= fieldEnd) return "field_count";`);
    }
  } else if (field.isQuoted) {
    lines.push(`fieldEnd = text.indexOf(${literal(separator)}, position);`);
    lines.push(`if (fieldEnd < 0 || fieldEnd + ${separator.length} > end) return "field_count";`);
  } else {
    lines.push(`fieldEnd = text.indexOf(${literal(field.separatorStart)}, ${searchFrom});`);
    lines.push(`if (fieldEnd < 0 || fieldEnd + ${separator.length} > end) return "field_count";`);
    if (!field.isOneCharSeparator) lines.push(`if (!text.startsWith(${literal(separator)}, fieldEnd)) return "field_count";`);
  }
  if (setterName !== null) lines.push(`if (badValue === null && ${IS_SET_VALUE}) badValue = ${setterName}(entry, text, position, fieldEnd);`);
  lines.push(`position = fieldEnd + ${separator.length};`);
  return lines.join("\n");
}

/**
 * Builds the format's parser as one function with every field's literals, widths and setter in place: the
 * same walk as a loop over the fields would do, without loading each field's description per line, and with
 * one setter per call site, which V8 can inline: ~10-20 % less CPU per Istio line than a loop over the
 * fields (bench/README.md). Only JSON-quoted literals and numbers go into the source; the setters are passed
 * in as arguments, so nothing a format string holds can become code.
 */
function generateParser(prefix: string, fields: readonly CompiledField[], prints: Prints, now: () => number): LineParser {
  const setters: FieldSetter[] = [];
  const statements = fields.map((field, index) => {
    const setter = field.spec.setter;
    const setterName = setter === null ? null : `setter${setters.push(setter) - 1}`;
    const precededBy = index > 0 ? (fields[index - 1] as CompiledField).followedBy : prefix;
    return fieldStatements(field, precededBy, index === fields.length - 1, setterName);
  });
  const source = [
    `if (!text.startsWith(${JSON.stringify(prefix)}, start)) return "field_count";`,
    `const entry = newAccessLogEntry("tcp");`,
    `let position = start + ${prefix.length};`,
    "let fieldEnd = 0;",
    "let found = 0;",
    "let badValue = null;",
    ...statements,
    "if (badValue !== null) return badValue;",
    prints.hasStartTime ? `if (entry.startTimeMs < 0) return "bad_start_time";` : "entry.startTimeMs = now();",
    prints.hasProtocol ? "" : "takeHttpFromRequestLine(entry);",
    "return entry;",
  ].join("\n");
  const setterNames = setters.map((_, index) => `setter${index}`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source holds only quoted literals and numbers (see above)
  const build = new Function("newAccessLogEntry", "takeHttpFromRequestLine", "now", ...setterNames, `return function parse(text, start, end) {\n${source}\n};`) as (
    ...parts: unknown[]
  ) => LineParser["parse"];
  const parse = build(newAccessLogEntry, takeHttpFromRequestLine, now, ...setters);
  return { parse };
}

/**
 * Tries several compiled formats (versions of one product's default) and remembers which one matched last,
 * so a stream of lines from one proxy version costs one attempt per line.
 */
export class FirstMatchParser implements LineParser {
  private preferred = 0;

  constructor(private readonly parsers: readonly LineParser[]) {
    if (parsers.length === 0) throw new Error("FirstMatchParser needs at least one parser");
  }

  parse(text: string, start: number, end: number): AccessLogEntry | LineRejectReason {
    const first = (this.parsers[this.preferred] as LineParser).parse(text, start, end);
    if (typeof first !== "string") return first;
    let reason = first;
    for (let index = 0; index < this.parsers.length; index++) {
      if (index === this.preferred) continue;
      const result = (this.parsers[index] as LineParser).parse(text, start, end);
      if (typeof result !== "string") {
        this.preferred = index;
        return result;
      }
      // A version whose shape matched explains the reject better than "wrong field count".
      if (reason === "field_count") reason = result;
    }
    return reason;
  }
}
