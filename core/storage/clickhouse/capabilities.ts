/**
 * What the connected ClickHouse server can do, decided once at start from `SELECT version()`.
 * Tests run on Debian's 18.16.1 and users on 24.x+ (docs/architecture.md, "ClickHouse 18.16 versus current releases"); newer
 * features are used only when present. The thresholds are the first releases known to ship each
 * feature as non-experimental, erring late: a too-late threshold only costs an optimisation, a
 * too-early one breaks start.
 */

export interface ServerVersion {
  major: number;
  minor: number;
  /** As the server reported it, for logs. */
  text: string;
}

export interface ClickHouseCapabilities {
  version: ServerVersion;
  /** `{name:Type}` placeholders bound from `param_*` settings (the client's `query_params`). */
  queryParameters: boolean;
  /** `TTL` on tables and `ALTER TABLE ... MODIFY TTL`. */
  ttl: boolean;
  /** `LowCardinality(String)` without the experimental setting. */
  lowCardinality: boolean;
}

const QUERY_PARAMETERS_SINCE: readonly [number, number] = [19, 11];
const TTL_SINCE: readonly [number, number] = [19, 11];
const LOW_CARDINALITY_SINCE: readonly [number, number] = [19, 11];

export function parseServerVersion(text: string): ServerVersion {
  const match = /^(\d+)\.(\d+)/.exec(text.trim());
  if (!match) throw new Error(`cannot parse ClickHouse version ${JSON.stringify(text)}`);
  return { major: Number(match[1]), minor: Number(match[2]), text: text.trim() };
}

function atLeast(version: ServerVersion, [major, minor]: readonly [number, number]): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

export function capabilitiesOf(version: ServerVersion): ClickHouseCapabilities {
  return {
    version,
    queryParameters: atLeast(version, QUERY_PARAMETERS_SINCE),
    ttl: atLeast(version, TTL_SINCE),
    lowCardinality: atLeast(version, LOW_CARDINALITY_SINCE),
  };
}
