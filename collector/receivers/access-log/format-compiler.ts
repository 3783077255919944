import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { newAccessLogEntry } from "../../../core/model/access-log.ts";
import type { LineParser, LineRejectReason } from "./entry.ts";
import { isUnsetValue } from "./field-values.ts";

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
  return new CompiledFormatParser(literals[0] ?? "", fields, { hasStartTime, hasProtocol }, options.now);
}

/**
 * A record that names a request method and path is an HTTP request, whether or not its format printed
 * the protocol (many custom formats leave %PROTOCOL% out); TCP proxies log neither. Called only where no
 * protocol value was given, so a protocol the line does state always wins.
 */
export function takeHttpFromRequestLine(entry: AccessLogEntry): void {
  if (entry.protocol === "tcp" && entry.method !== "" && entry.path !== "") entry.protocol = "http";
}

class CompiledFormatParser implements LineParser {
  constructor(
    private readonly prefix: string,
    private readonly fields: readonly CompiledField[],
    /** What the format prints: without a start time the receive time stands in; without a protocol, the request line decides. */
    private readonly prints: { hasStartTime: boolean; hasProtocol: boolean },
    private readonly now: () => number,
  ) {}

  parse(text: string, start: number, end: number): AccessLogEntry | LineRejectReason {
    if (!text.startsWith(this.prefix, start)) return "field_count";
    const entry = newAccessLogEntry("tcp");
    const fields = this.fields;
    const lastIndex = fields.length - 1;
    let position = start + this.prefix.length;
    // A bad value only decides the reason once the whole line proved to have this format's shape; a line of
    // another format is a field_count reject, whatever value happened to land where a number was expected.
    let badValue: LineRejectReason | null = null;
    for (let index = 0; index <= lastIndex; index++) {
      const field = fields[index] as CompiledField;
      const separator = field.followedBy;
      let fieldEnd: number;
      if (index === lastIndex) {
        // The last field runs to the line end; an unquoted one must not contain its own separator, or the
        // line had more fields than the format (another version's format, or two lines glued together).
        fieldEnd = end - separator.length;
        if (fieldEnd < position || !text.startsWith(separator, fieldEnd)) return "field_count";
        const previous = index > 0 ? (fields[index - 1] as CompiledField).followedBy : this.prefix;
        if (!field.isQuoted && previous.length > 0 && indexWithin(text, previous, position + field.spec.minWidth, fieldEnd) >= 0) {
          return "field_count";
        }
      } else if (field.isQuoted) {
        fieldEnd = text.indexOf(separator, position);
        if (fieldEnd < 0 || fieldEnd + separator.length > end) return "field_count";
      } else {
        fieldEnd = text.indexOf(field.separatorStart, position + field.spec.minWidth);
        if (fieldEnd < 0 || fieldEnd + separator.length > end) return "field_count";
        if (!field.isOneCharSeparator && !text.startsWith(separator, fieldEnd)) return "field_count";
      }
      const setter = field.spec.setter;
      if (setter !== null && badValue === null && !isUnsetValue(text, position, fieldEnd)) {
        badValue = setter(entry, text, position, fieldEnd);
      }
      position = fieldEnd + separator.length;
    }
    if (badValue !== null) return badValue;
    if (!this.prints.hasStartTime) entry.startTimeMs = this.now();
    else if (entry.startTimeMs < 0) return "bad_start_time";
    if (!this.prints.hasProtocol) takeHttpFromRequestLine(entry);
    return entry;
  }
}

function indexWithin(text: string, needle: string, from: number, to: number): number {
  const found = text.indexOf(needle, from);
  return found >= 0 && found + needle.length <= to ? found : -1;
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
