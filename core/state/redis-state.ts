import type { Redis } from "ioredis";
import {
  checkStateKey,
  encodeStateValue,
  StateFullError,
  type CompareAndSetResult,
  type StateEntry,
  type StateLimits,
  type StateStore,
  type StateWriteOptions,
} from "./port.ts";

/**
 * One namespace as three Redis keys: a hash of values, a hash of "version:expiresAtMs" per field, and the
 * revision counter. Every write runs as one Lua script, so a compare-and-set, the bound on keys and the
 * revision change together or not at all, and replicas never both win one version.
 * Expiry is kept by meshsight (like the file adapter) rather than per field by Redis, which cannot expire
 * hash fields before 7.4: an expired field reads as absent and is dropped when the namespace needs room.
 */
const WRITE_SCRIPT = `
local data, meta, rev = KEYS[1], KEYS[2], KEYS[3]
local field, expected, value, ttl, now, maxKeys, isDelete = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'
local function parse(text)
  local v, e = string.match(text, '^(%d+):(%d+)$')
  return tonumber(v), tonumber(e)
end
local version = 0
local current = redis.call('HGET', meta, field)
if current then
  local v, e = parse(current)
  if e > 0 and e <= now then
    redis.call('HDEL', data, field)
    redis.call('HDEL', meta, field)
  else
    version = v
  end
end
if expected >= 0 and expected ~= version then
  if version == 0 then return {0} end
  return {0, version, redis.call('HGET', data, field)}
end
if isDelete then
  if version == 0 then return {1, 0} end
  redis.call('HDEL', data, field)
  redis.call('HDEL', meta, field)
  return {1, redis.call('INCR', rev), 1}
end
if version == 0 and redis.call('HLEN', meta) >= maxKeys then
  local all = redis.call('HGETALL', meta)
  local victim, victimExpiry = nil, nil
  for i = 1, #all, 2 do
    local _, e = parse(all[i + 1])
    if e > 0 and e <= now then
      redis.call('HDEL', data, all[i])
      redis.call('HDEL', meta, all[i])
    elseif e > 0 and (victimExpiry == nil or e < victimExpiry) then
      victim, victimExpiry = all[i], e
    end
  end
  if redis.call('HLEN', meta) >= maxKeys then
    if victim == nil then return {-1} end
    redis.call('HDEL', data, victim)
    redis.call('HDEL', meta, victim)
  end
end
local next = redis.call('INCR', rev)
local expiry = 0
if ttl > 0 then expiry = now + ttl end
redis.call('HSET', data, field, value)
redis.call('HSET', meta, field, next .. ':' .. expiry)
return {1, next}
`;

const READ_SCRIPT = `
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return nil end
local v, e = string.match(current, '^(%d+):(%d+)$')
if tonumber(e) > 0 and tonumber(e) <= tonumber(ARGV[2]) then return nil end
return {tonumber(v), redis.call('HGET', KEYS[1], ARGV[1])}
`;

const LIST_PAGE = 200;

export interface RedisStateOptions {
  /** Shared by every namespace of the process (core/redis/connection.ts); its owner connects and closes it. */
  client: Redis;
  /** `<queue prefix>:state:<namespace>`: several installations can share one Redis. */
  keyPrefix: string;
  limits: StateLimits;
  now: () => number;
}

export class RedisStateStore implements StateStore {
  readonly isShared = true;
  private readonly keys: [data: string, meta: string, revision: string];

  constructor(private readonly options: RedisStateOptions) {
    this.keys = [`${options.keyPrefix}:data`, `${options.keyPrefix}:meta`, `${options.keyPrefix}:revision`];
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async get(key: string): Promise<StateEntry | undefined> {
    checkStateKey(key);
    const found = (await this.options.client.eval(READ_SCRIPT, 2, this.keys[0], this.keys[1], key, this.options.now())) as [number, string] | null;
    return found === null ? undefined : { version: found[0], value: JSON.parse(found[1]) as unknown };
  }

  async put(key: string, value: unknown, options: StateWriteOptions = {}): Promise<number> {
    const result = await this.write(key, -1, encodeStateValue(key, value, this.options.limits.maxValueBytes), options.ttlMs);
    return result.isSet ? result.version : 0;
  }

  async compareAndSet(key: string, expected: number, next: unknown, options: StateWriteOptions = {}): Promise<CompareAndSetResult> {
    const text = next === undefined ? undefined : encodeStateValue(key, next, this.options.limits.maxValueBytes);
    return this.write(key, expected, text, options.ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    checkStateKey(key);
    const reply = (await this.run(key, -1, undefined, undefined)) as number[];
    return reply[2] === 1;
  }

  async list(prefix: string, max: number): Promise<Array<{ key: string } & StateEntry>> {
    const found: Array<{ key: string } & StateEntry> = [];
    let cursor = "0";
    do {
      const [next, flat] = await this.options.client.hscan(this.keys[1], cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", LIST_PAGE);
      cursor = next;
      const now = this.options.now();
      const live: Array<{ key: string; version: number }> = [];
      for (let index = 0; index + 1 < flat.length; index += 2) {
        const [version = 0, expiresAtMs = 0] = (flat[index + 1] ?? "").split(":").map(Number);
        if (expiresAtMs === 0 || expiresAtMs > now) live.push({ key: flat[index] ?? "", version });
      }
      const slice = live.slice(0, max - found.length);
      if (slice.length === 0) continue;
      const values = await this.options.client.hmget(this.keys[0], ...slice.map((entry) => entry.key));
      slice.forEach((entry, index) => {
        const text = values[index];
        if (text !== null && text !== undefined) found.push({ key: entry.key, version: entry.version, value: JSON.parse(text) as unknown });
      });
    } while (cursor !== "0" && found.length < max);
    return found;
  }

  async revision(): Promise<number> {
    return Number((await this.options.client.get(this.keys[2])) ?? 0);
  }

  private async write(key: string, expected: number, text: string | undefined, ttlMs: number | undefined): Promise<CompareAndSetResult> {
    checkStateKey(key);
    const reply = (await this.run(key, expected, text, ttlMs)) as Array<number | string>;
    if (reply[0] === -1) throw new StateFullError(`Redis state ${this.options.keyPrefix} holds ${this.options.limits.maxKeys} keys that cannot be forgotten`);
    if (reply[0] === 1) return { isSet: true, version: Number(reply[1]) };
    return { isSet: false, current: reply.length > 1 ? { version: Number(reply[1]), value: JSON.parse(String(reply[2])) as unknown } : undefined };
  }

  private run(key: string, expected: number, text: string | undefined, ttlMs: number | undefined): Promise<unknown> {
    const ttl = ttlMs === undefined ? 0 : Math.max(1, Math.ceil(ttlMs));
    const args = [key, expected, text ?? "", ttl, this.options.now(), this.options.limits.maxKeys, text === undefined ? 1 : 0];
    return this.options.client.eval(WRITE_SCRIPT, 3, ...this.keys, ...args);
  }
}

/** Keys hold names a user chose; a '*' or '[' in them must not widen the HSCAN pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
