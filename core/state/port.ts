/**
 * The state port: small shared state (gates, overrides, API-defined probe cases, alert and guard state) as
 * versioned JSON values under string keys, one namespace per user. Two adapters pass one conformance suite
 * (test/conformance/state): a JSON file per namespace for one process, and Redis for replicas, where every
 * replica sees a write at once.
 *
 * Versions come from one counter per namespace, its revision: every write or delete takes the next one, so a
 * version is never reused (a key deleted and created again does not look unchanged to a compare-and-set), and
 * a reader that remembers the revision knows whether anything changed without reading anything else.
 */

export interface StateEntry {
  /** A JSON value, as written. */
  value: unknown;
  version: number;
}

export interface StateWriteOptions {
  /** Forget the key after this long (expiry is not a write: it does not bump the revision). */
  ttlMs?: number;
}

export type CompareAndSetResult = { isSet: true; version: number } | { isSet: false; current: StateEntry | undefined };

/** Every namespace is bounded: so many keys, values of at most so many bytes as JSON. */
export interface StateLimits {
  maxKeys: number;
  maxValueBytes: number;
}

export interface StateStore {
  /** True when other processes read and write the same namespace (Redis). */
  readonly isShared: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(key: string): Promise<StateEntry | undefined>;
  /** Writes whatever is there; resolves with the new version. */
  put(key: string, value: unknown, options?: StateWriteOptions): Promise<number>;
  /**
   * Writes `next` (deletes the key when undefined) only if the key's version is still `expected` (0: the key
   * must be absent). Otherwise nothing changes and the current entry comes back, to retry from.
   */
  compareAndSet(key: string, expected: number, next: unknown, options?: StateWriteOptions): Promise<CompareAndSetResult>;
  /** True when the key existed. */
  delete(key: string): Promise<boolean>;
  /** Live keys starting with `prefix`, at most `max` of them, in no particular order. */
  list(prefix: string, max: number): Promise<Array<{ key: string } & StateEntry>>;
  /** The namespace's revision: it changes with every write and delete. */
  revision(): Promise<number>;
}

/** Opens one namespace; the composition root picks the adapter (file, or Redis when configured). */
export interface StateNamespaceOptions {
  /** The file adapter's file; the Redis adapter ignores it. */
  file: string;
  /** Bounds of this namespace; default the configured ones. */
  limits?: Partial<StateLimits>;
  /**
   * What an older file of another format at `file` holds, as key -> value (the file adapter reads it once and
   * rewrites the file in its own format); undefined when the text is not that older format either.
   */
  legacy?: (parsed: unknown) => Record<string, unknown> | undefined;
}

export type OpenState = (namespace: string, options: StateNamespaceOptions) => StateStore;

/** The namespace holds maxKeys keys that cannot be forgotten (none expires); nothing was written. */
export class StateFullError extends Error {
  override readonly name = "StateFullError";
}

export class StateValueTooLargeError extends Error {
  override readonly name = "StateValueTooLargeError";
}

export class InvalidStateKeyError extends Error {
  override readonly name = "InvalidStateKeyError";
}

const MAX_KEY_LENGTH = 512;

/** Keys are names and paths the components choose (`gate/reviews`), never control characters. */
export function checkStateKey(key: string): void {
  // eslint-disable-next-line no-control-regex
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f]/.test(key)) {
    throw new InvalidStateKeyError(`state key ${JSON.stringify(key.slice(0, 40))} must be 1-${MAX_KEY_LENGTH} characters without control characters`);
  }
}

/** The value as stored (JSON text), refused above the namespace's byte bound. */
export function encodeStateValue(key: string, value: unknown, maxValueBytes: number): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`state key ${key}: the value is not JSON`);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxValueBytes) throw new StateValueTooLargeError(`state key ${key}: ${bytes} bytes of JSON, more than the ${maxValueBytes} a value may hold`);
  return text;
}
