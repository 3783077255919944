import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import type * as CelApi from "@bufbuild/cel";
import { InvalidProbeSpecError } from "../kind.ts";

/**
 * blackbox_exporter's `fail_if_body_json_matches_cel` / `fail_if_body_json_not_matches_cel`
 * (config/config.go NewCELProgram, prober/http.go matchCELExpressions): a CEL expression over the
 * response body parsed as JSON and bound to the variable `body` (type dyn), evaluated with Buf's
 * conformant CEL evaluator. Compiled when the spec is read, so a bad expression refuses the module
 * or case there, as cel-go's env.Compile refuses blackbox's modules file.
 */
export interface BodyCelProgram {
  expression: string;
  evaluate(bodyText: string): BodyCelResult;
}

/** The expression's boolean, or why there is none (blackbox fails the probe in every such case). */
export type BodyCelResult = { value: boolean } | { problem: string };

/**
 * Evaluation runs on the calling thread, so its time is bounded as cel-go's InterruptCheckFrequency(100)
 * bounds blackbox's: every comprehension iteration passes a check, and past this limit the evaluation
 * stops. Without comprehensions CEL is linear in the body; with them a short expression over an untrusted
 * body can be quadratic or worse (`body.l.all(x, x in body.l)`). One pass over a 1 MiB body's longest
 * list (~500k elements at ~2 µs each) fits in the limit.
 */
export const CEL_EVALUATION_LIMIT_MS = 1_000;

/** How many comprehension iterations pass between two looks at the clock (cel-go's InterruptCheckFrequency). */
const ITERATIONS_PER_CHECK = 100;

/** Compiled programs by expression: a blackbox module's spec is read again for every probe. */
const compiled = new Map<string, BodyCelProgram>();
const MAX_COMPILED = 100;

/** The evaluator costs ~0.15 CPU-s to load, so only modules that use CEL load it (docs/architecture.md, "Import rules"). */
let celApi: typeof CelApi | undefined;
const loadCel = (): typeof CelApi => (celApi ??= createRequire(import.meta.url)("@bufbuild/cel") as typeof CelApi);

type ParsedCel = ReturnType<typeof CelApi.parse>;
type CelExpr = ParsedCel["expr"];

/** Called around every comprehension's loop condition; its name cannot be written in an expression. */
const INTERRUPT_CHECK = "@meshsight_interrupt_check";
/** Functions the planner implements itself rather than through the environment's functions. */
const PLANNER_FUNCTIONS = new Set(["_&&_", "_||_", "_?_:_", "_[_]", "@not_strictly_false"]);
/** cel-go's standard environment declares the type names as identifiers (`type(x) == int`). */
const TYPE_IDENTIFIERS = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]);

export function compileBodyCel(expression: string, field: string): BodyCelProgram {
  const cached = compiled.get(expression);
  if (cached) return cached;
  const cel = loadCel();
  let parsed: ParsedCel;
  try {
    parsed = cel.parse(expression);
  } catch (error) {
    throw new InvalidProbeSpecError(`${field}: could not compile CEL program ${JSON.stringify(expression)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const budget = { deadline: 0, iterations: 0, isStopped: false };
  const interruptCheck = cel.celFunc(INTERRUPT_CHECK, [cel.CelScalar.DYN], cel.CelScalar.DYN, (condition: CelApi.CelValue) => {
    budget.iterations += 1;
    if (budget.iterations % ITERATIONS_PER_CHECK === 0 && performance.now() > budget.deadline) budget.isStopped = true;
    // A thrown error becomes the iteration's CelError, which ends the comprehension (func.js of @bufbuild/cel).
    if (budget.isStopped) throw new Error("evaluation stopped");
    return condition;
  });
  const env = cel.celEnv({ variables: { body: cel.CelScalar.DYN }, funcs: [interruptCheck] });
  const known = new Set([...env.funcs].map((func) => func.name));
  const undeclared = undeclaredReference(parsed.expr, new Set(["body"]), (name) => known.has(name) && name !== INTERRUPT_CHECK);
  if (undeclared !== undefined) throw new InvalidProbeSpecError(`${field}: could not compile CEL program ${JSON.stringify(expression)}: undeclared reference to '${undeclared}'`);
  instrumentComprehensions(parsed.expr, { next: maxId(parsed.expr) + 1n });
  const run = cel.plan(env, parsed);
  const program: BodyCelProgram = {
    expression,
    evaluate(bodyText) {
      let body: unknown;
      try {
        body = parseJsonAsGo(bodyText);
      } catch (error) {
        return { problem: `the body is not JSON (${error instanceof Error ? error.message : String(error)}), so CEL ${JSON.stringify(expression)} cannot be evaluated` };
      }
      budget.deadline = performance.now() + CEL_EVALUATION_LIMIT_MS;
      budget.iterations = 0;
      budget.isStopped = false;
      const result = run({ body: body as CelApi.CelInput });
      if (budget.isStopped) return { problem: `evaluating CEL ${JSON.stringify(expression)} was stopped after ${CEL_EVALUATION_LIMIT_MS} ms` };
      if (cel.isCelError(result)) return { problem: `evaluating CEL ${JSON.stringify(expression)} failed: ${result.message}` };
      if (typeof result !== "boolean") return { problem: `CEL ${JSON.stringify(expression)} gave ${String(cel.celType(result))}, not a bool` };
      return { value: result };
    },
  };
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(expression, program);
  return program;
}

/**
 * The first name neither declared nor bound by a comprehension, as cel-go's checker reports it. Type
 * mismatches between constants (`1 + 'a'`), which its checker also refuses, fail at evaluation here.
 */
function undeclaredReference(expr: CelExpr | undefined, bound: ReadonlySet<string>, isFunction: (name: string) => boolean): string | undefined {
  if (expr === undefined) return undefined;
  const kind = expr.exprKind;
  if (kind.case === "identExpr") return bound.has(kind.value.name) || TYPE_IDENTIFIERS.has(kind.value.name) ? undefined : kind.value.name;
  if (kind.case === "callExpr" && !isFunction(kind.value.function) && !PLANNER_FUNCTIONS.has(kind.value.function)) return kind.value.function;
  if (kind.case === "comprehensionExpr") {
    const { iterRange, accuInit, loopCondition, loopStep, result, iterVar, accuVar } = kind.value;
    const inLoop = new Set([...bound, iterVar, accuVar]);
    return firstOf([iterRange, accuInit], bound, isFunction) ?? firstOf([loopCondition, loopStep], inLoop, isFunction) ?? undeclaredReference(result, new Set([...bound, accuVar]), isFunction);
  }
  return firstOf(children(expr), bound, isFunction);
}

function firstOf(exprs: ReadonlyArray<CelExpr | undefined>, bound: ReadonlySet<string>, isFunction: (name: string) => boolean): string | undefined {
  for (const expr of exprs) {
    const found = undeclaredReference(expr, bound, isFunction);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Wraps every comprehension's loop condition in INTERRUPT_CHECK, so each iteration passes the budget. */
function instrumentComprehensions(expr: CelExpr | undefined, ids: { next: bigint }): void {
  if (expr === undefined) return;
  for (const child of children(expr)) instrumentComprehensions(child, ids);
  if (expr.exprKind.case !== "comprehensionExpr") return;
  const comprehension = expr.exprKind.value;
  const condition = comprehension.loopCondition;
  const id = ids.next;
  ids.next += 1n;
  // The AST is plain data to the planner; the check is a call like any other.
  comprehension.loopCondition = { ...condition!, id, exprKind: { case: "callExpr", value: { $typeName: "cel.expr.Expr.Call", function: INTERRUPT_CHECK, args: condition ? [condition] : [] } } };
}

function children(expr: CelExpr): Array<CelExpr | undefined> {
  const kind = expr.exprKind;
  switch (kind.case) {
    case "selectExpr":
      return [kind.value.operand];
    case "callExpr":
      return [kind.value.target, ...kind.value.args];
    case "listExpr":
      return kind.value.elements;
    case "structExpr":
      return kind.value.entries.flatMap((entry) => [entry.keyKind.case === "mapKey" ? entry.keyKind.value : undefined, entry.value]);
    case "comprehensionExpr":
      return [kind.value.iterRange, kind.value.accuInit, kind.value.loopCondition, kind.value.loopStep, kind.value.result];
    default:
      return [];
  }
}

function maxId(expr: CelExpr | undefined): bigint {
  if (expr === undefined) return 0n;
  return children(expr).reduce((max, child) => {
    const id = maxId(child);
    return id > max ? id : max;
  }, expr.id);
}

/**
 * The body as Go's json.Unmarshal into `any` gives it to blackbox's CEL: objects become maps (also with
 * keys such as "constructor"), every number a double; a number beyond a double's range is an error there.
 */
function parseJsonAsGo(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("a number is out of a double's range");
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return new Map(Object.entries(value));
    return value;
  });
}
