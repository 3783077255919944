import type { Logger } from "pino";
import { parseProbeCase, type CaseLimits, type KindLookup, type ProbeCase, type ProbeCaseDefinition } from "./case.ts";
import type { ProbeCatalog } from "./catalog.ts";
import type { JsonCaseStore } from "./case-store.ts";
import { loadCaseFiles } from "./case-files.ts";

export interface CaseServiceOptions {
  catalog: ProbeCatalog;
  kinds: KindLookup;
  limits: CaseLimits;
  maxCases: number;
  /** YAML files or directories loaded at start. */
  casePaths: readonly string[];
  /** Where cases defined through the API are kept. */
  store: JsonCaseStore;
  logger: Logger;
}

/**
 * Where cases come from: YAML files at start, then the API's stored cases (which win over a file case
 * of the same name, so an operator's PUT survives a restart). API changes are persisted at once.
 */
export class ProbeCaseService {
  private readonly apiDefined = new Map<string, ProbeCaseDefinition>();

  constructor(private readonly options: CaseServiceOptions) {}

  async load(): Promise<void> {
    const { catalog, kinds, limits, maxCases, casePaths, store, logger } = this.options;
    for (const probe of await loadCaseFiles(casePaths, kinds, limits, maxCases)) await catalog.upsert(probe);
    for (const definition of await store.load()) {
      // A stored case that no longer validates (a kind removed, stricter limits) must not stop the prober.
      try {
        const probe = parseProbeCase(definition, kinds, `stored case`, limits);
        await catalog.upsert(probe);
        this.apiDefined.set(probe.name, probe.definition);
      } catch (error) {
        logger.error({ error: error instanceof Error ? error.message : String(error) }, "stored probe case skipped");
      }
    }
    logger.info({ cases: catalog.list().length }, "probe cases loaded");
  }

  /** Validates and stores a case from the API; throws InvalidProbeCaseError naming the field. */
  async put(name: string, body: unknown): Promise<ProbeCase> {
    const withName = typeof body === "object" && body !== null && !Array.isArray(body) ? { name, ...body } : body;
    const probe = parseProbeCase(withName, this.options.kinds, `PUT /api/v1/probes/${name}`, this.options.limits);
    if (probe.name !== name) throw new NameMismatchError(`the body names case "${probe.name}" but the path names "${name}"`);
    await this.options.catalog.upsert(probe);
    this.apiDefined.set(name, probe.definition);
    await this.persist();
    return probe;
  }

  async delete(name: string): Promise<boolean> {
    const deleted = await this.options.catalog.delete(name);
    if (this.apiDefined.delete(name)) await this.persist();
    return deleted;
  }

  private persist(): Promise<void> {
    return this.options.store.save([...this.apiDefined.values()]);
  }
}

export class NameMismatchError extends Error {
  override readonly name = "NameMismatchError";
}
