import type { Logger } from "pino";
import type { StateStore } from "../../core/state/port.ts";
import { InvalidGateError, parseGate, type GateDefinition } from "./gate-definition.ts";
import { GATE_KEY_PREFIX, OVERRIDE_KEY_PREFIX, type GateOverride } from "./gate-store.ts";

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
 * API gates and overrides live in the state store; reads answer from a copy that `sync()` refreshes whenever
 * the store's revision moved, so a gate another replica stored is seen by the next request here.
 */
export class GateCatalog {
  private fileGates = new Map<string, GateDefinition>();
  private apiGates = new Map<string, GateDefinition>();
  private overrides = new Map<string, GateOverride>();
  private syncedRevision = -1;
  /** Stored gates that no longer validate, by version: logged once, not on every sync. */
  private readonly reported = new Set<number>();

  constructor(
    private readonly store: StateStore,
    private readonly maxGates: number,
    private readonly logger: Logger,
  ) {}

  /** Takes the file gates and loads the stored API gates and overrides. */
  async load(fileGates: readonly GateDefinition[]): Promise<void> {
    this.fileGates = new Map(fileGates.map((gate) => [gate.name, gate]));
    await this.sync();
  }

  /** Re-reads the stored gates and overrides when anything changed there; a stored gate that no longer validates is skipped and logged. */
  async sync(): Promise<void> {
    const revision = await this.store.revision();
    if (revision === this.syncedRevision) return;
    const [gates, overrides] = await Promise.all([this.store.list(GATE_KEY_PREFIX, this.maxGates), this.store.list(OVERRIDE_KEY_PREFIX, this.maxGates)]);
    const apiGates = new Map<string, GateDefinition>();
    for (const entry of gates) {
      try {
        const gate = parseGate(entry.value, "stored gate");
        apiGates.set(gate.name, gate);
      } catch (error) {
        if (this.reported.has(entry.version)) continue;
        this.reported.add(entry.version);
        this.logger.error({ reason: error instanceof Error ? error.message : String(error) }, "skipping a stored gate that no longer validates");
      }
    }
    this.apiGates = apiGates;
    this.overrides = new Map(overrides.map((entry) => [entry.key.slice(OVERRIDE_KEY_PREFIX.length), entry.value as GateOverride]));
    this.syncedRevision = revision;
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
    await this.sync();
    if (!this.get(name) && this.list().length >= this.maxGates) throw new TooManyGatesError(`at most ${this.maxGates} gates (gates.maxGates)`);
    await this.store.put(GATE_KEY_PREFIX + name, gate);
    this.apiGates.set(name, gate);
    return { definition: gate, source: "api" };
  }

  /** Deletes the API definition (a file gate of the same name shows again); false when there is none. */
  async delete(name: string): Promise<boolean> {
    const existed = await this.store.delete(GATE_KEY_PREFIX + name);
    this.apiGates.delete(name);
    if (!existed) return false;
    if (!this.get(name)) {
      await this.store.delete(OVERRIDE_KEY_PREFIX + name);
      this.overrides.delete(name);
    }
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

  /** Stored until it expires: the store forgets it then. */
  async setOverride(override: GateOverride): Promise<void> {
    await this.store.put(OVERRIDE_KEY_PREFIX + override.gate, override, { ttlMs: Math.max(1, override.expiresAtMs - override.createdAtMs) });
    this.overrides.set(override.gate, override);
  }

  /** Returns the override that was removed, if one was in force. */
  async clearOverride(gate: string, nowMs: number): Promise<GateOverride | undefined> {
    const active = this.activeOverride(gate, nowMs);
    const existed = await this.store.delete(OVERRIDE_KEY_PREFIX + gate);
    this.overrides.delete(gate);
    return existed ? active : undefined;
  }
}
