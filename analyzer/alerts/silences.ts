import { randomUUID } from "node:crypto";
import { compileUserRegex } from "../rules/regex-text.ts";

/**
 * Alertmanager's API v2 matcher (api/v2/openapi.yaml `matcher`): a label name and a value, compared exactly or as
 * a full-match regex; `isEqual: false` negates it (`!=`, `!~`). A label an alert lacks has the value "".
 */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** Absent in state saved before matchers had it: true. */
  isEqual?: boolean;
}

/**
 * Alertmanager's rule (silence/silence.go validateSilence, matchesEmpty): a silence whose every matcher also
 * matches the empty string would mute alerts that lack the label too, i.e. nearly everything. Negative matchers
 * never count as matching the empty string there.
 */
export function isMatchingEverything(matchers: readonly SilenceMatcher[]): boolean {
  return matchers.every((matcher) => matcher.isEqual !== false && (matcher.isRegex ? compileUserRegex(matcher.value, { isAnchored: true }).test("") : matcher.value === ""));
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  startsAtMs: number;
  endsAtMs: number;
  createdBy: string;
  comment: string;
}

export type NewSilence = Omit<Silence, "id" | "startsAtMs"> & { startsAtMs?: number };

export class TooManySilencesError extends Error {
  override readonly name = "TooManySilencesError";
}

/** How long an expired silence stays listed (so "who silenced this yesterday" can be answered). */
const EXPIRED_KEPT_MS = 24 * 3_600_000;

/**
 * Silences mute alerts whose labels match every matcher while now is within [startsAt, endsAt). A muted
 * alert keeps its lifecycle (it fires and resolves) but is not dispatched. Bounded by maxSilences.
 */
export class SilenceBook {
  private readonly silences = new Map<string, { silence: Silence; patterns: (RegExp | undefined)[] }>();

  constructor(private readonly maxSilences: number) {}

  add(input: NewSilence, nowMs: number): Silence {
    this.purge(nowMs);
    if (this.silences.size >= this.maxSilences) throw new TooManySilencesError(`at most ${this.maxSilences} silences`);
    const silence: Silence = { ...input, id: randomUUID(), startsAtMs: input.startsAtMs ?? nowMs, matchers: input.matchers.map((matcher) => ({ ...matcher })) };
    this.put(silence);
    return silence;
  }

  /** Ends a silence now; false when unknown. */
  expire(id: string, nowMs: number): boolean {
    const entry = this.silences.get(id);
    if (!entry) return false;
    entry.silence.endsAtMs = Math.min(entry.silence.endsAtMs, nowMs);
    return true;
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)?.silence;
  }

  list(nowMs: number): (Silence & { state: "active" | "pending" | "expired" })[] {
    this.purge(nowMs);
    return [...this.silences.values()].map(({ silence }) => ({ ...silence, state: silence.endsAtMs <= nowMs ? "expired" : silence.startsAtMs > nowMs ? "pending" : "active" }));
  }

  /** Ids of the active silences that match these labels. */
  matching(labels: Readonly<Record<string, string>>, nowMs: number): string[] {
    const ids: string[] = [];
    for (const { silence, patterns } of this.silences.values()) {
      if (silence.startsAtMs > nowMs || silence.endsAtMs <= nowMs) continue;
      const matchesAll = silence.matchers.every((matcher, index) => {
        const value = labels[matcher.name] ?? "";
        const pattern = patterns[index];
        const isMatch = pattern ? pattern.test(value) : value === matcher.value;
        return matcher.isEqual === false ? !isMatch : isMatch;
      });
      if (matchesAll) ids.push(silence.id);
    }
    return ids;
  }

  snapshot(): Silence[] {
    return [...this.silences.values()].map(({ silence }) => silence);
  }

  restore(silences: readonly Silence[]): void {
    this.silences.clear();
    for (const silence of silences.slice(0, this.maxSilences)) this.put(silence);
  }

  private put(silence: Silence): void {
    // Anchored like Alertmanager's =~: the regex must match the whole value.
    const patterns = silence.matchers.map((matcher) => (matcher.isRegex ? compileUserRegex(matcher.value, { isAnchored: true }) : undefined));
    this.silences.set(silence.id, { silence, patterns });
  }

  private purge(nowMs: number): void {
    for (const [id, { silence }] of this.silences) if (silence.endsAtMs + EXPIRED_KEPT_MS <= nowMs) this.silences.delete(id);
  }
}
