/**
 * Legs of calls by callee service and request id, indexed only for the callees someone looks up. Adding a
 * leg appends to its callee's list (no hashing of the request id, no map entry); the first lookup of a
 * callee folds its list into a map in arrival order, so a lookup sees exactly what an eager map would.
 * Most legs are never looked up: a sidecar's client legs wait for server legs of other services, which one
 * proxy's log (a `meshsight ingest` of its file) never holds, and building a map of them was the costliest
 * step of that path (~15 % of its CPU, with the garbage collection of the map).
 */
export class RequestIdIndex<Leg, Entry> {
  /** callee -> legs added since its last lookup, in arrival order (request ids and legs side by side). */
  private readonly pending = new Map<string, { requestIds: string[]; legs: Leg[] }>();
  private readonly indexed = new Map<string, Map<string, Entry>>();

  /** `merge` folds one more leg with the same callee and request id into what is indexed for them. */
  constructor(private readonly merge: (entry: Entry | undefined, leg: Leg) => Entry) {}

  add(callee: string, requestId: string, leg: Leg): void {
    const pending = this.pending.get(callee);
    if (pending === undefined) this.pending.set(callee, { requestIds: [requestId], legs: [leg] });
    else {
      pending.requestIds.push(requestId);
      pending.legs.push(leg);
    }
  }

  /** The callee's entries by request id, every leg added so far included (undefined: none ever added). */
  of(callee: string): Map<string, Entry> | undefined {
    const pending = this.pending.get(callee);
    let entries = this.indexed.get(callee);
    if (pending === undefined) return entries;
    this.pending.delete(callee);
    if (entries === undefined) {
      entries = new Map();
      this.indexed.set(callee, entries);
    }
    const { requestIds, legs } = pending;
    for (let i = 0; i < requestIds.length; i++) {
      const requestId = requestIds[i] as string;
      entries.set(requestId, this.merge(entries.get(requestId), legs[i] as Leg));
    }
    return entries;
  }
}
