/**
 * The alarm rule expression language: a comparison of two arithmetic sides over metric names, e.g.
 * `sla < 95`, `p99 > 1000`, `errors / calls * 100 > 5`, `avg(cpm) < 0.5 * max(cpm)`. Parsed by a small
 * recursive-descent parser into a tree and evaluated by walking it: no eval, nothing but numbers flows.
 * A metric is read per minute; avg/min/max/sum aggregate their argument over the rule's whole period,
 * while max(a, b) and min(a, b) pick per minute (a relative threshold with an absolute floor).
 * `baseline(p95)` is the metric over the entity's own previous hour (analyzer/health/baseline-window.ts),
 * so `p95 > max(3 * baseline(p95), 250)` is a regression against the entity itself.
 */

export const RULE_METRICS = ["cpm", "calls", "errors", "sla", "apdex", "latency_avg", "p50", "p75", "p90", "p95", "p99", "probe_success_rate"] as const;
export type RuleMetric = (typeof RULE_METRICS)[number];

const AGGREGATIONS = ["avg", "min", "max", "sum"] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

export const COMPARISONS = ["<", "<=", ">", ">=", "==", "!="] as const;
export type Comparison = (typeof COMPARISONS)[number];

export type ValueNode =
  | { kind: "number"; value: number }
  | { kind: "metric"; metric: RuleMetric }
  | { kind: "negate"; operand: ValueNode }
  | { kind: "binary"; operator: "+" | "-" | "*" | "/"; left: ValueNode; right: ValueNode }
  | { kind: "aggregate"; aggregation: Aggregation; operand: ValueNode }
  | { kind: "pick"; pick: "max" | "min"; left: ValueNode; right: ValueNode }
  | { kind: "baseline"; metric: RuleMetric };

export interface RuleExpression {
  kind: "comparison";
  source: string;
  left: ValueNode;
  comparison: Comparison;
  right: ValueNode;
  /** Every metric the expression reads: tells the round which data to fetch. */
  metrics: ReadonlySet<RuleMetric>;
  /** True when it reads baseline(): the round then reads the entities' previous hour. */
  usesBaseline: boolean;
}

/** A parse error with the 0-based column it is about, so a rules file error can point at it. */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

interface Token {
  text: string;
  kind: "number" | "name" | "symbol" | "end";
  column: number;
}

const MAX_EXPRESSION_LENGTH = 500;
const MAX_DEPTH = 32;
const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([a-z_][a-z0-9_]*)|(<=|>=|==|!=|[<>+\-*/(),]))/iy;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < source.length) {
    if (source.slice(position).trim() === "") break;
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(source);
    if (!match) {
      const column = position + (source.slice(position).length - source.slice(position).trimStart().length);
      throw new ExpressionError(`unexpected character ${JSON.stringify(source[column])}`, column);
    }
    const text = match[1] ?? match[2] ?? match[3] ?? "";
    const column = TOKEN.lastIndex - text.length;
    tokens.push({ text, column, kind: match[1] !== undefined ? "number" : match[2] !== undefined ? "name" : "symbol" });
    position = TOKEN.lastIndex;
  }
  tokens.push({ text: "", kind: "end", column: source.length });
  return tokens;
}

export function parseRuleExpression(source: string): RuleExpression {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  const parser = new Parser(tokenize(source));
  const left = parser.sum(0);
  const operator = parser.peek();
  if (!(COMPARISONS as readonly string[]).includes(operator.text)) {
    throw new ExpressionError(`expected a comparison (${COMPARISONS.join(" ")}) ${describe(operator)}`, operator.column);
  }
  parser.next();
  const right = parser.sum(0);
  const end = parser.peek();
  if (end.kind !== "end") throw new ExpressionError(`unexpected ${JSON.stringify(end.text)} after the comparison`, end.column);
  return { kind: "comparison", source, left, comparison: operator.text as Comparison, right, metrics: parser.metrics, usesBaseline: parser.usesBaseline };
}

function describe(token: Token): string {
  return token.kind === "end" ? "at the end" : `at ${JSON.stringify(token.text)}`;
}

class Parser {
  private index = 0;
  readonly metrics = new Set<RuleMetric>();
  usesBaseline = false;

  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.index] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index++;
    return token;
  }

  sum(depth: number): ValueNode {
    let node = this.product(depth);
    while (this.peek().text === "+" || this.peek().text === "-") {
      const operator = this.next().text as "+" | "-";
      node = { kind: "binary", operator, left: node, right: this.product(depth) };
    }
    return node;
  }

  private product(depth: number): ValueNode {
    let node = this.unary(depth);
    while (this.peek().text === "*" || this.peek().text === "/") {
      const operator = this.next().text as "*" | "/";
      node = { kind: "binary", operator, left: node, right: this.unary(depth) };
    }
    return node;
  }

  private unary(depth: number): ValueNode {
    if (depth > MAX_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_DEPTH} levels`, this.peek().column);
    if (this.peek().text === "-") {
      this.next();
      return { kind: "negate", operand: this.unary(depth + 1) };
    }
    return this.primary(depth);
  }

  private primary(depth: number): ValueNode {
    const token = this.next();
    if (token.kind === "number") return { kind: "number", value: Number(token.text) };
    if (token.text === "(") {
      const inner = this.sum(depth + 1);
      this.expect(")");
      return inner;
    }
    if (token.kind === "name") {
      const name = token.text.toLowerCase();
      if ((AGGREGATIONS as readonly string[]).includes(name)) {
        this.expect("(");
        const operand = this.sum(depth + 1);
        if ((name === "max" || name === "min") && this.peek().text === ",") {
          this.next();
          const right = this.sum(depth + 1);
          this.expect(")");
          return { kind: "pick", pick: name, left: operand, right };
        }
        this.expect(")");
        return { kind: "aggregate", aggregation: name as Aggregation, operand };
      }
      if (name === "baseline") return this.baseline();
      if ((RULE_METRICS as readonly string[]).includes(name)) {
        this.metrics.add(name as RuleMetric);
        return { kind: "metric", metric: name as RuleMetric };
      }
      throw new ExpressionError(`unknown metric or function ${JSON.stringify(token.text)} (metrics: ${RULE_METRICS.join(", ")}; functions: ${AGGREGATIONS.join(", ")}, baseline)`, token.column);
    }
    throw new ExpressionError(`expected a number, metric or "(" ${describe(token)}`, token.column);
  }

  /** baseline(<metric>): one metric, no arithmetic inside, so its meaning is "that figure last hour". */
  private baseline(): ValueNode {
    this.expect("(");
    const token = this.next();
    const metric = token.text.toLowerCase();
    if (token.kind !== "name" || !(RULE_METRICS as readonly string[]).includes(metric) || metric === "probe_success_rate") {
      throw new ExpressionError(`baseline() takes one call metric (${RULE_METRICS.filter((each) => each !== "probe_success_rate").join(", ")}) ${describe(token)}`, token.column);
    }
    this.expect(")");
    this.usesBaseline = true;
    this.metrics.add(metric as RuleMetric);
    return { kind: "baseline", metric: metric as RuleMetric };
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.text !== text) throw new ExpressionError(`expected ${JSON.stringify(text)} ${describe(token)}`, token.column);
  }
}

/** A metric's value in one minute of the period; undefined when the entity had no data for it then. */
export type MinuteMetricReader = (minuteIndex: number, metric: RuleMetric) => number | undefined;

/** A metric over the entity's baseline (its previous hour); undefined when it had no calls then. */
export type BaselineReader = (metric: RuleMetric) => number | undefined;

const NO_BASELINE: BaselineReader = () => undefined;

/** Evaluates one side for one minute of the period (`minutes` long); NaN when data is missing. */
export function evaluateValue(node: ValueNode, read: MinuteMetricReader, minuteIndex: number, minutes: number, baseline: BaselineReader = NO_BASELINE): number {
  // Recursion without a helper closure: this runs per node, minute, rule and entity of every round.
  switch (node.kind) {
    case "number":
      return node.value;
    case "metric":
      return read(minuteIndex, node.metric) ?? Number.NaN;
    case "baseline":
      return baseline(node.metric) ?? Number.NaN;
    case "negate":
      return -evaluateValue(node.operand, read, minuteIndex, minutes, baseline);
    case "pick": {
      const left = evaluateValue(node.left, read, minuteIndex, minutes, baseline);
      const right = evaluateValue(node.right, read, minuteIndex, minutes, baseline);
      // A missing side leaves no answer: a floor alone must not fire where the baseline is unknown.
      if (Number.isNaN(left) || Number.isNaN(right)) return Number.NaN;
      return node.pick === "max" ? Math.max(left, right) : Math.min(left, right);
    }
    case "binary": {
      const left = evaluateValue(node.left, read, minuteIndex, minutes, baseline);
      const right = evaluateValue(node.right, read, minuteIndex, minutes, baseline);
      if (node.operator === "+") return left + right;
      if (node.operator === "-") return left - right;
      if (node.operator === "*") return left * right;
      // x / 0 is "no answer", not Infinity: a rule must not fire because a denominator had no calls.
      return right === 0 ? Number.NaN : left / right;
    }
    case "aggregate":
      return aggregateOverMinutes(node, read, minutes, baseline);
  }
}

/** sum/avg/min/max of the operand over the minutes that have a value; NaN when none has. */
function aggregateOverMinutes(node: Extract<ValueNode, { kind: "aggregate" }>, read: MinuteMetricReader, minutes: number, baseline: BaselineReader): number {
  let count = 0;
  let total = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < minutes; index++) {
    const value = evaluateValue(node.operand, read, index, minutes, baseline);
    if (Number.isNaN(value)) continue;
    count++;
    total += value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (count === 0) return Number.NaN;
  if (node.aggregation === "sum") return total;
  if (node.aggregation === "avg") return total / count;
  return node.aggregation === "min" ? min : max;
}

/** True when the comparison holds; a NaN side (missing data) never breaches. */
export function compare(left: number, comparison: Comparison, right: number): boolean {
  if (Number.isNaN(left) || Number.isNaN(right)) return false;
  switch (comparison) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
    case "==":
      return left === right;
    case "!=":
      return left !== right;
  }
}
