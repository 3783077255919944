import { readFile } from "node:fs/promises";
import { parseYaml } from "../../core/config/lazy-yaml.ts";
import { z } from "zod";
import { PathPatternTrie } from "./path-pattern-trie.ts";

/** One user grouping rule; without `service` it applies to every service, after that service's own rules. */
export interface EndpointRule {
  pattern: string;
  service?: string;
}

const rulesFileSchema = z.object({
  rules: z.array(z.object({ pattern: z.string().min(1), service: z.string().min(1).optional() }).strict()),
});

export class InvalidEndpointRulesError extends Error {
  override readonly name = "InvalidEndpointRulesError";
}

/**
 * Parses a rules document:
 * ```yaml
 * rules:
 *   - pattern: /api/products/{id}
 *     service: productpage.default   # optional: only for this service
 *   - pattern: /users/{uid}/orders/{*}
 * ```
 * Patterns are compiled here too, so a bad pattern fails at load time with the file named, not at the
 * first request.
 */
export function parseEndpointRules(yamlText: string, sourceName: string): EndpointRule[] {
  let document: unknown;
  try {
    document = parseYaml(yamlText);
  } catch (error) {
    throw new InvalidEndpointRulesError(`${sourceName}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = rulesFileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join(".") : "";
    throw new InvalidEndpointRulesError(`${sourceName}: ${where ? `${where}: ` : ""}${issue?.message ?? "invalid endpoint rules"}`);
  }
  const rules = parsed.data.rules.map((rule) => (rule.service === undefined ? { pattern: rule.pattern } : { pattern: rule.pattern, service: rule.service }));
  try {
    new PathPatternTrie(rules.map((rule) => rule.pattern));
  } catch (error) {
    throw new InvalidEndpointRulesError(`${sourceName}: ${(error as Error).message}`);
  }
  return rules;
}

export async function readEndpointRulesFile(path: string): Promise<EndpointRule[]> {
  return parseEndpointRules(await readFile(path, "utf8"), path);
}

/** Rules compiled per service, with the global rules as the fallback. */
export class CompiledEndpointRules {
  private readonly perService = new Map<string, PathPatternTrie>();
  private readonly global: PathPatternTrie;

  constructor(rules: readonly EndpointRule[]) {
    const byService = new Map<string, string[]>();
    const globalPatterns: string[] = [];
    for (const rule of rules) {
      if (rule.service === undefined || rule.service === "") {
        globalPatterns.push(rule.pattern);
        continue;
      }
      const patterns = byService.get(rule.service) ?? [];
      patterns.push(rule.pattern);
      byService.set(rule.service, patterns);
    }
    for (const [service, patterns] of byService) this.perService.set(service, new PathPatternTrie(patterns));
    this.global = new PathPatternTrie(globalPatterns);
  }

  get isEmpty(): boolean {
    return this.global.size === 0 && this.perService.size === 0;
  }

  /** Whether any rule (its own or a global one) could name an endpoint of `service`. */
  appliesTo(service: string): boolean {
    return this.global.size > 0 || this.perService.has(service);
  }

  /** The matching pattern for `service`, its own rules first, or undefined. */
  match(service: string, segments: readonly string[]): string | undefined {
    return this.perService.get(service)?.match(segments) ?? this.global.match(segments);
  }
}
