/**
 * The part of Argo Rollouts' `web` metric provider a gate answer goes through, implemented faithfully for
 * the subset docs/gating.md uses (argoproj/argo-rollouts metricproviders/webmetric/webmetric.go and
 * utils/evaluate/evaluate.go):
 * - jsonPath: Kubernetes JSONPath `{$}` or `{$.a.b}` over the decoded JSON body; one result is the value.
 * - conditions: expr-lang expressions over `result`: member access, string/number/bool literals,
 *   == != < <= > >=, && || ! and parentheses.
 * - outcome: failureCondition true -> Failed, successCondition true -> Successful, both set and neither
 *   true -> Inconclusive (only success set: false -> Failed).
 */

export type ArgoPhase = "Successful" | "Failed" | "Inconclusive";

export function extractJsonPath(body: unknown, jsonPath: string): unknown {
  const match = /^\{\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\}$/.exec(jsonPath.trim());
  if (!match) throw new Error(`jsonPath ${jsonPath}: outside the supported subset {$} / {$.a.b}`);
  let value: unknown = body;
  for (const key of (match[1] ?? "").split(".").filter((part) => part !== "")) {
    if (typeof value !== "object" || value === null || !(key in value)) throw new Error(`jsonPath ${jsonPath}: ${key} is not found`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

type Token = { kind: "op"; text: string } | { kind: "literal"; value: unknown } | { kind: "name"; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(==|!=|<=|>=|&&|\|\||[<>!().])|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))/y;
  let position = 0;
  while (position < expression.length) {
    if (/^\s*$/.test(expression.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(expression);
    if (!match) throw new Error(`condition ${expression}: cannot read at ${position}`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: "op", text: match[1] });
    else if (match[2] !== undefined) tokens.push({ kind: "literal", value: JSON.parse(`"${match[2]}"`) as string });
    else if (match[3] !== undefined) tokens.push({ kind: "literal", value: Number(match[3]) });
    else if (match[4] === "true" || match[4] === "false") tokens.push({ kind: "literal", value: match[4] === "true" });
    else if (match[4] === "nil") tokens.push({ kind: "literal", value: null });
    else tokens.push({ kind: "name", text: match[4] ?? "" });
  }
  return tokens;
}

/** Recursive descent, lowest precedence first: || then && then comparison then unary then member access. */
export function evaluateCondition(expression: string, result: unknown): boolean {
  const tokens = tokenize(expression);
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const isOp = (text: string): boolean => {
    const token = peek();
    return token?.kind === "op" && token.text === text;
  };
  const expect = (text: string): void => {
    if (!isOp(text)) throw new Error(`condition ${expression}: expected ${text}`);
    index++;
  };
  const primary = (): unknown => {
    const token = tokens[index++];
    if (!token) throw new Error(`condition ${expression}: ends too early`);
    if (token.kind === "literal") return token.value;
    if (token.kind === "op" && token.text === "(") {
      const value = or();
      expect(")");
      return value;
    }
    if (token.kind === "op" && token.text === "!") return !truthy(primary());
    if (token.kind !== "name" || token.text !== "result") throw new Error(`condition ${expression}: unsupported ${JSON.stringify(token)}`);
    let value: unknown = result;
    while (isOp(".")) {
      index++;
      const member = tokens[index++];
      if (member?.kind !== "name") throw new Error(`condition ${expression}: expected a member name`);
      value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[member.text] : undefined;
    }
    return value;
  };
  const comparison = (): unknown => {
    const left = primary();
    for (const op of ["==", "!=", "<=", ">=", "<", ">"]) {
      if (!isOp(op)) continue;
      index++;
      const right = primary();
      return compare(op, left, right);
    }
    return left;
  };
  const and = (): unknown => {
    let value = comparison();
    while (isOp("&&")) {
      index++;
      const right = comparison();
      value = truthy(value) && truthy(right);
    }
    return value;
  };
  const or = (): unknown => {
    let value = and();
    while (isOp("||")) {
      index++;
      const right = and();
      value = truthy(value) || truthy(right);
    }
    return value;
  };
  const value = or();
  if (index !== tokens.length) throw new Error(`condition ${expression}: unexpected trailing input`);
  if (typeof value !== "boolean") throw new Error(`condition ${expression}: expected a boolean result, got ${JSON.stringify(value)}`);
  return value;
}

function truthy(value: unknown): boolean {
  if (typeof value !== "boolean") throw new Error(`expected a boolean operand, got ${JSON.stringify(value)}`);
  return value;
}

function compare(op: string, left: unknown, right: unknown): boolean {
  if (op === "==") return left === right;
  if (op === "!=") return left !== right;
  if (typeof left !== "number" || typeof right !== "number") throw new Error(`${op} needs numbers, got ${JSON.stringify(left)} and ${JSON.stringify(right)}`);
  return op === "<" ? left < right : op === "<=" ? left <= right : op === ">" ? left > right : left >= right;
}

export function evaluateMeasurement(result: unknown, conditions: { successCondition?: string; failureCondition?: string }): ArgoPhase {
  const { successCondition, failureCondition } = conditions;
  const isFailure = failureCondition ? evaluateCondition(failureCondition, result) : false;
  const isSuccess = successCondition ? evaluateCondition(successCondition, result) : false;
  if (!successCondition && !failureCondition) return "Successful";
  if (successCondition && !failureCondition) return isSuccess ? "Successful" : "Failed";
  if (!successCondition && failureCondition) return isFailure ? "Failed" : "Successful";
  if (isFailure) return "Failed";
  return isSuccess ? "Successful" : "Inconclusive";
}
