/**
 * User endpoint rules compiled into a segment trie, so matching a path costs one walk over its segments
 * instead of one regex per rule. Patterns look like `/api/products/{id}` (`{name}` matches exactly one
 * non-empty segment) or `/users/{uid}/orders/{*}` (`{*}`, last only, matches the rest of the path, zero or
 * more segments). When several patterns match, the one declared first wins, as users expect from an
 * ordered rule list.
 */

const NO_RULE = Number.POSITIVE_INFINITY;
const PARAM_SEGMENT = /^\{[A-Za-z0-9_.-]+\}$/;
const WILDCARD_SEGMENT = "{*}";

export class InvalidPathPatternError extends Error {
  override readonly name = "InvalidPathPatternError";
}

class TrieNode {
  literals: Map<string, TrieNode> | null = null;
  param: TrieNode | null = null;
  /** Index of the first rule ending exactly here, NO_RULE if none. */
  endRule = NO_RULE;
  /** Index of the first rule whose `{*}` starts here, NO_RULE if none. */
  wildcardRule = NO_RULE;
  /** Smallest rule index anywhere below: lets a walk skip subtrees that cannot beat the best match so far. */
  minRuleBelow = NO_RULE;
}

/** Splits a path (already without its query string) into segments: `/a/b` -> `["a", "b"]`, `/` -> `[""]`. */
export function pathSegments(path: string): string[] {
  return path.split("/").slice(1);
}

function validate(pattern: string): string[] {
  if (!pattern.startsWith("/")) throw new InvalidPathPatternError(`endpoint pattern "${pattern}" must start with "/"`);
  if (pattern.includes("?")) throw new InvalidPathPatternError(`endpoint pattern "${pattern}" must not contain a query string`);
  const segments = pathSegments(pattern);
  segments.forEach((segment, i) => {
    if (segment === WILDCARD_SEGMENT) {
      if (i !== segments.length - 1) throw new InvalidPathPatternError(`endpoint pattern "${pattern}": {*} is only allowed as the last segment`);
      return;
    }
    if ((segment.includes("{") || segment.includes("}")) && !PARAM_SEGMENT.test(segment)) {
      throw new InvalidPathPatternError(`endpoint pattern "${pattern}": segment "${segment}" must be a literal, {name} or {*}`);
    }
  });
  return segments;
}

export class PathPatternTrie {
  private readonly root = new TrieNode();
  private readonly patterns: string[] = [];

  /** Throws InvalidPathPatternError naming the bad pattern. */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) this.insert(pattern);
  }

  get size(): number {
    return this.patterns.length;
  }

  /** The first declared pattern matching `segments`, or undefined. */
  match(segments: readonly string[]): string | undefined {
    if (this.patterns.length === 0) return undefined;
    const best = this.walk(this.root, segments, 0, NO_RULE);
    return best === NO_RULE ? undefined : this.patterns[best];
  }

  private insert(pattern: string): void {
    const segments = validate(pattern);
    const ruleIndex = this.patterns.length;
    this.patterns.push(pattern);
    let node = this.root;
    node.minRuleBelow = Math.min(node.minRuleBelow, ruleIndex);
    for (const segment of segments) {
      if (segment === WILDCARD_SEGMENT) {
        node.wildcardRule = Math.min(node.wildcardRule, ruleIndex);
        return;
      }
      node = PARAM_SEGMENT.test(segment) ? (node.param ??= new TrieNode()) : this.literalChild(node, segment);
      node.minRuleBelow = Math.min(node.minRuleBelow, ruleIndex);
    }
    node.endRule = Math.min(node.endRule, ruleIndex);
  }

  private literalChild(node: TrieNode, segment: string): TrieNode {
    node.literals ??= new Map();
    let child = node.literals.get(segment);
    if (!child) {
      child = new TrieNode();
      node.literals.set(segment, child);
    }
    return child;
  }

  private walk(node: TrieNode, segments: readonly string[], depth: number, bestSoFar: number): number {
    let best = Math.min(bestSoFar, node.wildcardRule);
    if (depth === segments.length) return Math.min(best, node.endRule);
    const segment = segments[depth] ?? "";
    const literal = node.literals?.get(segment);
    if (literal && literal.minRuleBelow < best) best = this.walk(literal, segments, depth + 1, best);
    if (node.param && segment !== "" && node.param.minRuleBelow < best) best = this.walk(node.param, segments, depth + 1, best);
    return best;
  }
}
