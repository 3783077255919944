import { RE2JS, RE2JSException } from "re2js";

/**
 * The one door through which regular expressions written by users are compiled: probe assertions
 * (`bodyRegex`, a tcp `expect`, dns answers), alarm-rule name filters and silence matchers. V8's RegExp
 * backtracks, so one pattern such as `(a+)+$` against 30 characters held the event loop for seconds (each
 * more character doubles it) and with it every receiver and /healthz. Patterns compiled here run on RE2's
 * algorithm (re2js, a pure-JavaScript port: no native build, nothing downloaded at install), whose matching
 * time grows linearly with the input whatever the pattern. The price is RE2's syntax
 * (https://github.com/google/re2/wiki/Syntax, also that of Prometheus' and Alertmanager's `=~`):
 * lookarounds and backreferences, which cannot run in linear time, are refused with a message saying so.
 */

/** Longer patterns are refused: matching cost also grows with the pattern's size. */
export const MAX_USER_REGEX_CHARS = 4_096;

/**
 * RE2's time is linear in the input with the compiled program's size as the factor; counted repetitions
 * make programs large from short text (`[^a]{1000}` is 1,000 instructions). At this cap a 253-character
 * entity name costs at most about 0.25 ms, so an alarm rule over 5,000 entities stays near a second.
 */
export const MAX_PROGRAM_INSTRUCTIONS = 1_000;

/** A pattern that cannot be used; a SyntaxError, as `new RegExp` throws, so existing handling keeps working. */
export class UserRegexError extends SyntaxError {
  override readonly name = "UserRegexError";
}

export interface UserRegexOptions {
  /** Match whole values, like Prometheus' and Alertmanager's `=~` (the pattern is wrapped in `^(?:...)$`). */
  isAnchored: boolean;
}

/**
 * Compiles `source` (RE2 syntax) into a RegExp whose `test` and `exec` run on the linear-time engine, so
 * callers keep their RegExp types. V8 never sees the pattern: the object is a RegExp of the empty pattern
 * underneath. Throws UserRegexError naming what is wrong.
 */
export function compileUserRegex(source: string, options: UserRegexOptions = { isAnchored: false }): RegExp {
  if (source.length > MAX_USER_REGEX_CHARS) throw new UserRegexError(`the pattern has ${source.length} characters, more than ${MAX_USER_REGEX_CHARS}`);
  // Compiled alone first, so a pattern such as `a)|(b` cannot break out of the anchoring group.
  const alone = compileRe2(source);
  const regex = options.isAnchored ? new LinearRegExp(`^(?:${source})$`, compileRe2(`^(?:${source})$`)) : new LinearRegExp(source, alone);
  if (regex.programSize > MAX_PROGRAM_INSTRUCTIONS) {
    throw new UserRegexError(`the pattern compiles to ${regex.programSize} instructions, more than ${MAX_PROGRAM_INSTRUCTIONS}: use smaller counted repetitions ({n})`);
  }
  return regex;
}

/**
 * How costly matching `regex` can be per input character: its RE2 program size, or infinite for a RegExp
 * not made here (core/regex/bounded-match.ts then keeps it off the event loop).
 */
export function programSizeOf(regex: RegExp): number {
  return regex instanceof LinearRegExp ? regex.programSize : Number.POSITIVE_INFINITY;
}

/** re2js keeps the program on an untyped field; read defensively, unknown counts as infinite. */
function instructionsOf(program: RE2JS): number {
  const compiled: unknown = program.re2().prog;
  if (typeof compiled === "object" && compiled !== null && "inst" in compiled && Array.isArray(compiled.inst)) return compiled.inst.length;
  return Number.POSITIVE_INFINITY;
}

function compileRe2(source: string): RE2JS {
  try {
    return RE2JS.compile(source);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    throw new UserRegexError(describeRe2Error(error.message));
  }
}

const UNSUPPORTED = /`\(\?<?[=!]|invalid escape sequence: `\\[1-9]|invalid escape sequence: `\\k/;

function describeRe2Error(message: string): string {
  const detail = message.replace(/^error parsing regexp: /, "");
  if (UNSUPPORTED.test(message)) {
    return `${detail}: lookarounds ((?=, (?!, (?<=, (?<!) and backreferences (\\1, \\k<name>) are not supported, since patterns run on a linear-time engine (RE2 syntax)`;
  }
  return `not a valid regular expression (RE2 syntax): ${detail}`;
}

/**
 * A RegExp whose matching is RE2's. Only `test` and `exec` are meant for use (what every caller needs);
 * methods that build a new RegExp from this one (`split`, `matchAll`) are refused rather than handed to V8.
 */
class LinearRegExp extends RegExp {
  readonly #program: RE2JS;
  /** Instructions of the compiled program: matching costs up to this much per input character. */
  readonly programSize: number;

  constructor(source: string, program: RE2JS) {
    super("(?:)");
    this.#program = program;
    this.programSize = instructionsOf(program);
    // The pattern as matched (anchoring included), as `new RegExp(...).source` would read: the API shows it back.
    Object.defineProperty(this, "source", { value: source, enumerable: false });
  }

  static override get [Symbol.species](): RegExpConstructor {
    throw new TypeError("a user regular expression cannot be copied into a new RegExp (split, matchAll): use test or exec");
  }

  override test(input: string): boolean {
    return this.#program.test(String(input));
  }

  override exec(input: string): RegExpExecArray | null {
    return this.#program.exec(String(input)) as RegExpExecArray | null;
  }

  override toString(): string {
    return `/${this.source}/`;
  }
}
