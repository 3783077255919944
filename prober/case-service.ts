import type { Logger } from "pino";
import type { StateStore } from "../core/state/port.ts";
import { parseProbeCase, type CaseLimits, type KindLookup, type ProbeCase } from "./case.ts";
import type { ProbeCatalog } from "./catalog.ts";
import { CASE_KEY_PREFIX } from "./case-store.ts";
import { loadCaseFiles } from "./case-files.ts";
import type { ProbeCaseHistory } from "./case-history.ts";

export interface CaseServiceOptions {
  catalog: ProbeCatalog;
  kinds: KindLookup;
  limits: CaseLimits;
  maxCases: number;
  /** YAML files or directories loaded at start. */
  casePaths: readonly string[];
  /** Where cases defined through the API are kept (the "probe-cases" state namespace). */
  store: StateStore;
  /** Where API changes are remembered for the analysis; the cases a process starts with are no change. */
  history: ProbeCaseHistory;
  logger: Logger;
}

/**
 * Where cases come from: YAML files at start, then the API's stored cases (which win over a file case of
 * the same name, so an operator's PUT survives a restart). API changes are stored at once; `sync()` takes
 * in what other replicas stored (a shared store), and runs before every probe API request and on a timer.
 */
export class ProbeCaseService {
  /** Stored cases in the catalog, by name: the version each came from. */
  private readonly apiDefined = new Map<string, number>();
  private syncedRevision = -1;
  /** Stored cases that no longer validate, by version: logged once, not on every sync. */
  private readonly reported = new Set<number>();

  constructor(private readonly options: CaseServiceOptions) {}

  async load(): Promise<void> {
    const { catalog, kinds, limits, maxCases, casePaths, logger } = this.options;
    for (const probe of await loadCaseFiles(casePaths, kinds, limits, maxCases)) await catalog.upsert(probe);
    await this.sync();
    logger.info({ cases: catalog.list().length }, "probe cases loaded");
  }

  /** Brings the catalog in step with the stored cases when the store changed since the last look. */
  async sync(): Promise<void> {
    const { catalog, kinds, limits, store, logger, maxCases, history } = this.options;
    const revision = await store.revision();
    if (revision === this.syncedRevision) return;
    // Another replica's change is dated when this one sees it; the first sync loads what the process starts with.
    const isStarted = this.syncedRevision >= 0;
    const stored = await store.list(CASE_KEY_PREFIX, maxCases);
    const names = new Set<string>();
    for (const entry of stored) {
      const name = entry.key.slice(CASE_KEY_PREFIX.length);
      names.add(name);
      if (this.apiDefined.get(name) === entry.version) continue;
      // A stored case that no longer validates (a kind removed, stricter limits) must not stop the prober.
      try {
        const probe = parseProbeCase(entry.value, kinds, "stored case", limits);
        await catalog.upsert(probe);
        this.apiDefined.set(name, entry.version);
        if (isStarted) history.record(name, probe.service, "put");
      } catch (error) {
        if (this.reported.has(entry.version)) continue;
        this.reported.add(entry.version);
        logger.error({ error: error instanceof Error ? error.message : String(error) }, "stored probe case skipped");
      }
    }
    for (const name of [...this.apiDefined.keys()]) {
      if (names.has(name)) continue;
      this.apiDefined.delete(name);
      if (isStarted) history.record(name, catalog.get(name)?.service ?? "", "delete");
      await catalog.delete(name);
    }
    this.syncedRevision = revision;
  }

  /** Validates and stores a case from the API; throws InvalidProbeCaseError naming the field. */
  async put(name: string, body: unknown): Promise<ProbeCase> {
    const withName = typeof body === "object" && body !== null && !Array.isArray(body) ? { name, ...body } : body;
    const probe = parseProbeCase(withName, this.options.kinds, `PUT /api/v1/probes/${name}`, this.options.limits);
    if (probe.name !== name) throw new NameMismatchError(`the body names case "${probe.name}" but the path names "${name}"`);
    await this.options.catalog.upsert(probe);
    this.apiDefined.set(name, await this.options.store.put(CASE_KEY_PREFIX + name, probe.definition));
    this.options.history.record(name, probe.service, "put");
    return probe;
  }

  async delete(name: string): Promise<boolean> {
    const service = this.options.catalog.get(name)?.service ?? "";
    const deleted = await this.options.catalog.delete(name);
    if (deleted) this.options.history.record(name, service, "delete");
    if (this.apiDefined.delete(name)) await this.options.store.delete(CASE_KEY_PREFIX + name);
    return deleted;
  }
}

export class NameMismatchError extends Error {
  override readonly name = "NameMismatchError";
}
