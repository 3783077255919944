import type { ProbeCase } from "./case.ts";

export type CatalogChange = { type: "upsert"; probe: ProbeCase; previous: ProbeCase | undefined } | { type: "delete"; probe: ProbeCase };
export type CatalogListener = (change: CatalogChange) => Promise<void>;

/** Raised when adding one more case would pass prober.maxCases. */
export class TooManyCasesError extends Error {
  override readonly name = "TooManyCasesError";
}

/**
 * The probe cases this process knows, by name. Schedulers, resident loops and metrics listen to changes
 * so a PUT or DELETE takes effect at once (a deleted case's schedules and metric series go with it).
 */
export class ProbeCatalog {
  private readonly cases = new Map<string, ProbeCase>();
  private readonly listeners: CatalogListener[] = [];

  constructor(private readonly maxCases: number) {}

  onChange(listener: CatalogListener): void {
    this.listeners.push(listener);
  }

  get(name: string): ProbeCase | undefined {
    return this.cases.get(name);
  }

  list(): ProbeCase[] {
    return [...this.cases.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Cases bound to `service` (what a release event runs). */
  boundTo(service: string): ProbeCase[] {
    return this.list().filter((probe) => probe.service === service);
  }

  async upsert(probe: ProbeCase): Promise<void> {
    const previous = this.cases.get(probe.name);
    if (!previous && this.cases.size >= this.maxCases) throw new TooManyCasesError(`at most ${this.maxCases} probe cases (prober.maxCases); delete some first`);
    this.cases.set(probe.name, probe);
    await this.notify({ type: "upsert", probe, previous });
  }

  async delete(name: string): Promise<boolean> {
    const probe = this.cases.get(name);
    if (!probe) return false;
    this.cases.delete(name);
    await this.notify({ type: "delete", probe });
    return true;
  }

  private async notify(change: CatalogChange): Promise<void> {
    for (const listener of this.listeners) await listener(change);
  }
}
