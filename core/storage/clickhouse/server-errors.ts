import { MalformedBatchError, StorageUnavailableError } from "../port.ts";

/**
 * What a failed ClickHouse request means for the caller (core/storage/port.ts, permanent vs retryable).
 * The HTTP status does not tell: 18.16 answers a value too long for its column with 500, like a crash.
 * Codes: https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp
 */

/** The server could not parse or convert a value of the rows sent: the same rows fail again. */
const MALFORMED_DATA_CODES: ReadonlySet<number> = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone surrogate in a JSON string)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  128, // TOO_LARGE_ARRAY_SIZE
  130, // CANNOT_READ_ARRAY_FROM_TEXT
  131, // TOO_LARGE_STRING_SIZE
  190, // SIZES_OF_ARRAYS_DOESNT_MATCH
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  366, // SIZES_OF_NESTED_COLUMNS_ARE_INCONSISTENT
  376, // CANNOT_PARSE_UUID
  407, // DECIMAL_OVERFLOW
  441, // CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
]);

/** The server is overloaded, short of a resource, or lost a peer: the same request can succeed later. */
const TRANSIENT_SERVER_CODES: ReadonlySet<number> = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  173, // CANNOT_ALLOCATE_MEMORY
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  216, // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING (a metric write's INSERT retried while the first still runs)
  210, // NETWORK_ERROR
  225, // NO_ZOOKEEPER
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (a replica lost ZooKeeper)
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  364, // RECEIVED_ERROR_TOO_MANY_REQUESTS
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
]);

/** Node's codes for a server that cannot be reached or dropped the connection. */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** @clickhouse/client's own words for a request that timed out or lost its socket. */
const CLIENT_TRANSIENT_MESSAGES = ["Timeout error.", "socket hang up"];

/**
 * The server's error code: current servers' errors are parsed by the client (`code` "25"); 18.16 words
 * them `Code: 25, e.displayText() = DB::Exception: ...`, which the client passes on as a plain Error.
 */
export function clickHouseErrorCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as { code?: unknown };
  if (typeof code === "string" && /^\d+$/.test(code)) return Number(code);
  const match = /^Code: (\d+)[.,]/.exec(error.message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function isConnectionFailure(error: Error): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const { code } = current as { code?: unknown };
    if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return true;
    const { message } = current;
    if (CLIENT_TRANSIENT_MESSAGES.some((text) => message.includes(text))) return true;
  }
  return false;
}

/**
 * The error a failed request is rethrown as: MalformedBatchError when the server refused the data,
 * StorageUnavailableError when it could not be reached, timed out or is overloaded (reads then answer
 * 503, writes are retried), the error itself otherwise.
 */
export function classifyClickHouseError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StorageUnavailableError || error instanceof MalformedBatchError) return error;
  const code = clickHouseErrorCode(error);
  if (code !== undefined && MALFORMED_DATA_CODES.has(code)) return new MalformedBatchError(error.message, { cause: error });
  if (code === undefined ? isConnectionFailure(error) : TRANSIENT_SERVER_CODES.has(code)) {
    return new StorageUnavailableError(`ClickHouse is unavailable: ${error.message}`, { cause: error });
  }
  return error;
}
