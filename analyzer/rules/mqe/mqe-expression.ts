import { COMPARISONS, type Comparison } from "../expression.ts";

/**
 * SkyWalking's Metrics Query Expression (MQE) as alarm rules use it since 9.6 (`expression:` in alarm-settings.yml),
 * parsed into a tree by a small recursive-descent parser that follows MQEParser.g4: `*` `/` `%` bind tighter than
 * `+` `-`, then comparisons, then `&&` `||`, all left-associative. Functions: sum/avg/max/min/count/latest over the
 * period, abs/ceil/floor/round, increase/rate(metric, minutes), aggregate_labels(x, sum|avg|max|min). Metrics may
 * carry labels: `service_percentile{p='50,75,90,95,99'}` (9.6/9.7 wrote `{_='0,1'}`, indexes into 50,75,90,95,99).
 * Functions SkyWalking has but meshsight cannot compute (baseline needs its predictive service) raise
 * MqeUnsupportedError, so the rule loads inactive instead of failing the file. Nothing is evaluated as code.
 */

export type MqeAggregation = "sum" | "avg" | "max" | "min" | "count" | "latest";
export type MqeLabelAggregation = "sum" | "avg" | "max" | "min";

export interface MqeMetricNode {
  kind: "metric";
  name: string;
  /** One label selector, e.g. p='50,75' -> { name: "p", values: ["50", "75"] }; undefined: all the metric has. */
  label: { name: string; values: string[] } | undefined;
}

export type MqeNode =
  | { kind: "number"; value: number }
  | MqeMetricNode
  | { kind: "arithmetic"; operator: "+" | "-" | "*" | "/" | "%"; left: MqeNode; right: MqeNode }
  | { kind: "compare"; operator: Comparison; left: MqeNode; right: MqeNode }
  | { kind: "logic"; operator: "&&" | "||"; left: MqeNode; right: MqeNode }
  | { kind: "aggregate"; aggregation: MqeAggregation; operand: MqeNode }
  | { kind: "math"; fn: "abs" | "ceil" | "floor" | "round"; operand: MqeNode; places: number }
  | { kind: "trend"; fn: "increase" | "rate"; metric: MqeMetricNode; minutes: number }
  | { kind: "aggregate_labels"; aggregation: MqeLabelAggregation; operand: MqeNode };

/** What a node yields: a constant, a value per minute of the window, or one value for the whole period. */
export type MqeValueType = "scalar" | "series" | "single";

export interface MqeExpression {
  kind: "mqe";
  source: string;
  root: MqeNode;
  /** Every metric the expression reads, in order of appearance. */
  metrics: MqeMetricNode[];
  /** Minutes before the period that increase/rate look back to. */
  trendMinutes: number;
}

/** A syntax or type error: SkyWalking refuses the file, and so does meshsight. */
export class MqeSyntaxError extends Error {
  override readonly name = "MqeSyntaxError";
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** Valid MQE that meshsight cannot evaluate: the rule loads inactive, with this reason. */
export class MqeUnsupportedError extends Error {
  override readonly name = "MqeUnsupportedError";
}

const AGGREGATIONS: readonly string[] = ["sum", "avg", "max", "min", "count", "latest"];
const LABEL_AGGREGATIONS: readonly string[] = ["sum", "avg", "max", "min"];
const MATH_FUNCTIONS: readonly string[] = ["abs", "ceil", "floor", "round"];
const UNSUPPORTED_FUNCTIONS: Readonly<Record<string, string>> = {
  baseline: "baseline() needs SkyWalking's metrics prediction service, which meshsight does not have",
  top_n: "top_n is not allowed in alarm rules (SkyWalking refuses it too)",
  top_n_of: "top_n_of is not allowed in alarm rules",
  relabels: "relabels() is not supported in meshsight alarm rules",
  sort_values: "sort_values() is not supported in meshsight alarm rules",
  sort_label_values: "sort_label_values() is not supported in meshsight alarm rules",
  view_as_seq: "view_as_seq() is not supported in meshsight alarm rules",
  is_present: "is_present() is not supported in meshsight alarm rules",
};

const MAX_EXPRESSION_LENGTH = 1_000;
const MAX_DEPTH = 32;
const MAX_TREND_MINUTES = 60;

interface Token {
  text: string;
  kind: "number" | "name" | "string" | "symbol" | "end";
  column: number;
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|'([^']*)'|"([^"]*)"|(&&|\|\||==|!=|<=|>=|[<>+\-*/%(){},=]))/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (source.slice(position).trim() !== "") {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(source);
    if (!match) {
      const column = position + (source.slice(position).length - source.slice(position).trimStart().length);
      throw new MqeSyntaxError(`unexpected character ${JSON.stringify(source[column])}`, column);
    }
    const [whole, number, name, single, double, symbol] = match;
    const column = position + whole.length - whole.trimStart().length;
    if (number !== undefined) tokens.push({ text: number, kind: "number", column });
    else if (name !== undefined) tokens.push({ text: name, kind: "name", column });
    else if (single !== undefined || double !== undefined) tokens.push({ text: single ?? double ?? "", kind: "string", column });
    else tokens.push({ text: symbol ?? "", kind: "symbol", column });
    position = TOKEN.lastIndex;
  }
  tokens.push({ text: "", kind: "end", column: source.length });
  return tokens;
}

export function parseMqe(source: string): MqeExpression {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new MqeSyntaxError(`longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  const parser = new Parser(tokenize(source));
  const root = parser.logic(0);
  const end = parser.peek();
  if (end.kind !== "end") throw new MqeSyntaxError(`unexpected ${JSON.stringify(end.text)}`, end.column);
  // SkyWalking's rule check: the root is a compare (or bool) operation whose result is one value.
  if (root.kind !== "compare" && root.kind !== "logic") throw new MqeSyntaxError("the expression must be a comparison (or && / || of comparisons), e.g. sum(service_sla < 8000) >= 2", 0);
  if (typeOf(root) !== "single") throw new MqeSyntaxError("the expression must give one value for the period: aggregate the metrics with sum(), avg(), max(), min(), count() or latest()", 0);
  return { kind: "mqe", source, root, metrics: parser.metrics, trendMinutes: parser.trendMinutes };
}

/** The type a node yields; throws MqeSyntaxError where a series meets a period value or an aggregation has no series. */
export function typeOf(node: MqeNode): MqeValueType {
  switch (node.kind) {
    case "number":
      return "scalar";
    case "metric":
    case "trend":
      return "series";
    case "aggregate":
      if (typeOf(node.operand) !== "series") throw new MqeSyntaxError(`${node.aggregation}() needs metrics over time, not a single value`, 0);
      return "single";
    case "math":
    case "aggregate_labels":
      return typeOf(node.operand);
    case "arithmetic":
    case "compare":
    case "logic": {
      const types = new Set([typeOf(node.left), typeOf(node.right)]);
      if (types.has("series") && types.has("single")) throw new MqeSyntaxError(`cannot combine metrics over time with a single value in ${node.operator}: aggregate both sides`, 0);
      return types.has("series") ? "series" : types.has("single") ? "single" : "scalar";
    }
  }
}

class Parser {
  private index = 0;
  readonly metrics: MqeMetricNode[] = [];
  trendMinutes = 0;

  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index++;
    return token;
  }

  private expect(text: string): Token {
    const token = this.next();
    if (token.text !== text || token.kind === "string") throw new MqeSyntaxError(`expected ${JSON.stringify(text)} ${describe(token)}`, token.column);
    return token;
  }

  logic(depth: number): MqeNode {
    let node = this.comparison(depth);
    while (this.peek().text === "&&" || this.peek().text === "||") {
      const operator = this.next().text as "&&" | "||";
      node = { kind: "logic", operator, left: node, right: this.comparison(depth) };
    }
    return node;
  }

  private comparison(depth: number): MqeNode {
    let node = this.additive(depth);
    while ((COMPARISONS as readonly string[]).includes(this.peek().text)) {
      const operator = this.next().text as Comparison;
      // `> bool` is MQE's explicit 1/0 result; comparisons give 1/0 anyway.
      if (this.peek().kind === "name" && this.peek().text.toLowerCase() === "bool") this.next();
      node = { kind: "compare", operator, left: node, right: this.additive(depth) };
    }
    return node;
  }

  private additive(depth: number): MqeNode {
    let node = this.multiplicative(depth);
    while (this.peek().text === "+" || this.peek().text === "-") {
      const operator = this.next().text as "+" | "-";
      node = { kind: "arithmetic", operator, left: node, right: this.multiplicative(depth) };
    }
    return node;
  }

  private multiplicative(depth: number): MqeNode {
    let node = this.primary(depth);
    while (this.peek().text === "*" || this.peek().text === "/" || this.peek().text === "%") {
      const operator = this.next().text as "*" | "/" | "%";
      node = { kind: "arithmetic", operator, left: node, right: this.primary(depth) };
    }
    return node;
  }

  private primary(depth: number): MqeNode {
    if (depth > MAX_DEPTH) throw new MqeSyntaxError(`nested deeper than ${MAX_DEPTH} levels`, this.peek().column);
    const token = this.next();
    if (token.kind === "number") return { kind: "number", value: Number(token.text) };
    if (token.kind === "symbol" && token.text === "(") {
      const inner = this.logic(depth + 1);
      this.expect(")");
      return inner;
    }
    if (token.kind !== "name") throw new MqeSyntaxError(`expected a number, metric, function or "(" ${describe(token)}`, token.column);
    const name = token.text.toLowerCase();
    if (this.peek().text !== "(") return this.metric(token);
    if (Object.hasOwn(UNSUPPORTED_FUNCTIONS, name)) throw new MqeUnsupportedError(UNSUPPORTED_FUNCTIONS[name] ?? name);
    this.expect("(");
    let node: MqeNode;
    if (AGGREGATIONS.includes(name)) {
      node = { kind: "aggregate", aggregation: name as MqeAggregation, operand: this.logic(depth + 1) };
    } else if (MATH_FUNCTIONS.includes(name)) {
      const operand = this.logic(depth + 1);
      const places = name === "round" ? (this.expect(","), this.integer()) : 0;
      node = { kind: "math", fn: name as "abs" | "ceil" | "floor" | "round", operand, places };
    } else if (name === "increase" || name === "rate") {
      const metricToken = this.next();
      if (metricToken.kind !== "name") throw new MqeSyntaxError(`${name}() takes a metric ${describe(metricToken)}`, metricToken.column);
      const metric = this.metric(metricToken);
      this.expect(",");
      const minutes = this.integer();
      if (minutes < 1 || minutes > MAX_TREND_MINUTES) throw new MqeSyntaxError(`${name}() looks back 1..${MAX_TREND_MINUTES} minutes`, token.column);
      this.trendMinutes = Math.max(this.trendMinutes, minutes);
      node = { kind: "trend", fn: name, metric, minutes };
    } else if (name === "aggregate_labels") {
      const operand = this.logic(depth + 1);
      this.expect(",");
      const fn = this.next();
      if (!LABEL_AGGREGATIONS.includes(fn.text.toLowerCase())) throw new MqeSyntaxError(`aggregate_labels() takes ${LABEL_AGGREGATIONS.join(", ")} ${describe(fn)}`, fn.column);
      node = { kind: "aggregate_labels", aggregation: fn.text.toLowerCase() as MqeLabelAggregation, operand };
    } else {
      throw new MqeSyntaxError(`unknown function ${JSON.stringify(token.text)}`, token.column);
    }
    this.expect(")");
    return node;
  }

  private integer(): number {
    const token = this.next();
    if (token.kind !== "number" || !/^\d+$/.test(token.text)) throw new MqeSyntaxError(`expected a whole number ${describe(token)}`, token.column);
    return Number(token.text);
  }

  private metric(token: Token): MqeMetricNode {
    let label: MqeMetricNode["label"];
    if (this.peek().text === "{") {
      this.next();
      if (this.peek().text !== "}") {
        const name = this.next();
        if (name.kind !== "name") throw new MqeSyntaxError(`expected a label name ${describe(name)}`, name.column);
        this.expect("=");
        const value = this.next();
        if (value.kind !== "string") throw new MqeSyntaxError(`expected a quoted label value ${describe(value)}`, value.column);
        label = { name: name.text, values: value.text.split(",").map((part) => part.trim()).filter((part) => part !== "") };
        if (this.peek().text === ",") throw new MqeSyntaxError("meshsight reads one label per metric", this.peek().column);
      }
      this.expect("}");
    }
    const node: MqeMetricNode = { kind: "metric", name: token.text, label };
    this.metrics.push(node);
    return node;
  }
}

function describe(token: Token): string {
  return token.kind === "end" ? "at the end" : `at ${JSON.stringify(token.text)}`;
}
