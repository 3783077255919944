import type { Logger } from "pino";
import { InvalidGateError, parseGate, type GateDefinition } from "./gate-definition.ts";
import type { GateOverride, JsonGateStore } from "./gate-store.ts";

export type GateSource = "file" | "api";

export interface CatalogGate {
  definition: GateDefinition;
  source: GateSource;
}

export class TooManyGatesError extends Error {
  override readonly name = "TooManyGatesError";
}

/** The Flagger canary a webhook call is about. */
export interface FlaggerTarget {
  name: string;
  namespace: string;
  /** `metadata.gate` of the webhook: names the gate outright. */
  gate?: string;
}

/**
 * Every gate (files and API; an API gate wins over a file gate of the same name, so operators can adjust
 * one without a redeploy) and the overrides on them. Bounded by `maxGates`; at most one override per gate.
 */
export class GateCatalog {
  private fileGates = new Map<string, GateDefinition>();
  private readonly apiGates = new Map<string, GateDefinition>();
  private readonly overrides = new Map<string, GateOverride>();

  constructor(
    private readonly store: JsonGateStore,
    private readonly maxGates: number,
    private readonly logger: Logger,
  ) {}

  /** Loads the stored API gates and overrides; a stored gate that no longer validates is skipped and logged. */
  async load(fileGates: readonly GateDefinition[]): Promise<void> {
    this.fileGates = new Map(fileGates.map((gate) => [gate.name, gate]));
    const stored = await this.store.load();
    for (const raw of stored.gates) {
      try {
        const gate = parseGate(raw, "stored gate");
        this.apiGates.set(gate.name, gate);
      } catch (error) {
        this.logger.error({ reason: error instanceof Error ? error.message : String(error) }, "skipping a stored gate that no longer validates");
      }
    }
    for (const override of stored.overrides) this.overrides.set(override.gate, override);
  }

  get(name: string): CatalogGate | undefined {
    const api = this.apiGates.get(name);
    if (api) return { definition: api, source: "api" };
    const file = this.fileGates.get(name);
    return file ? { definition: file, source: "file" } : undefined;
  }

  list(): CatalogGate[] {
    const names = new Set([...this.fileGates.keys(), ...this.apiGates.keys()]);
    return [...names].sort().flatMap((name) => this.get(name) ?? []);
  }

  async put(name: string, raw: unknown): Promise<CatalogGate> {
    const body = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? { name, ...raw } : raw;
    const gate = parseGate(body, `gate ${name}`);
    if (gate.name !== name) throw new InvalidGateError(`gate ${name}: the body names "${gate.name}"; the path and the body must agree`);
    if (!this.get(name) && this.list().length >= this.maxGates) throw new TooManyGatesError(`at most ${this.maxGates} gates (gates.maxGates)`);
    this.apiGates.set(name, gate);
    await this.persist();
    return { definition: gate, source: "api" };
  }

  /** Deletes the API definition (a file gate of the same name shows again); false when there is none. */
  async delete(name: string): Promise<boolean> {
    if (!this.apiGates.delete(name)) return false;
    if (!this.get(name)) this.overrides.delete(name);
    await this.persist();
    return true;
  }

  /** The gate for a Flagger call: metadata.gate, else the gate bound to the canary, else the one guarding `<name>.<namespace>`. */
  findForFlagger(target: FlaggerTarget): CatalogGate[] {
    if (target.gate !== undefined) return this.get(target.gate) ? [this.get(target.gate) as CatalogGate] : [];
    const gates = this.list();
    const bound = gates.filter(({ definition }) => definition.flagger?.name === target.name && definition.flagger.namespace === target.namespace);
    if (bound.length > 0) return bound;
    const service = `${target.name}.${target.namespace}`;
    return gates.filter(({ definition }) => definition.service === service && definition.flagger === undefined);
  }

  /** The override in force at `nowMs`; expired ones are ignored (and dropped on the next write). */
  activeOverride(gate: string, nowMs: number): GateOverride | undefined {
    const override = this.overrides.get(gate);
    return override && override.expiresAtMs > nowMs ? override : undefined;
  }

  async setOverride(override: GateOverride): Promise<void> {
    this.overrides.set(override.gate, override);
    await this.persist(override.createdAtMs);
  }

  /** Returns the override that was removed, if one was in force. */
  async clearOverride(gate: string, nowMs: number): Promise<GateOverride | undefined> {
    const active = this.activeOverride(gate, nowMs);
    if (!this.overrides.delete(gate)) return undefined;
    await this.persist(nowMs);
    return active;
  }

  private persist(nowMs = 0): Promise<void> {
    const overrides = [...this.overrides.values()].filter((override) => override.expiresAtMs > nowMs);
    return this.store.save({ gates: [...this.apiGates.values()], overrides });
  }
}
