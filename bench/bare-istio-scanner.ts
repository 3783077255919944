/**
 * The baseline of bench/ingest-process.ts: a bare Node program doing the aggregation the bench asks of
 * every contender over Istio-format access-log lines, with nothing else (no config, no storage, no
 * identity resolution or endpoint naming): requests per minute x authority x direction x response code,
 * with the sum and a histogram of their durations. It scans bytes for the few fields it needs, the
 * fastest reasonable way in plain Node. Compiled by the bench to JavaScript and run with plain `node`,
 * so its figure is the whole process, like meshsight's. Prints its totals as one JSON line.
 *
 *   node bare-istio-scanner.mjs FILE
 */
import { openSync, readSync } from "node:fs";

const BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000];
const CHUNK_BYTES = 1024 * 1024;
const SPACE = 0x20;
const QUOTE = 0x22;
const NEWLINE = 0x0a;

interface Aggregate {
  count: number;
  durationSumMs: number;
  /** Per bucket of BUCKETS_MS, then +Inf. */
  histogram: number[];
}

const aggregates = new Map<string, Aggregate>();
let lines = 0;
let unmatched = 0;

/** Index just past the `n`-th byte equal to `byte` at or after `from`, or -1. */
function after(buffer: Buffer, from: number, end: number, byte: number, n = 1): number {
  let at = from;
  for (let seen = 0; seen < n; seen++) {
    at = buffer.indexOf(byte, at);
    if (at < 0 || at >= end) return -1;
    at += 1;
  }
  return at;
}

function readNumber(buffer: Buffer, from: number, end: number): { value: number; next: number } {
  let value = 0;
  let at = from;
  while (at < end) {
    const digit = (buffer[at] as number) - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    at++;
  }
  return { value, next: at };
}

function scanLine(buffer: Buffer, start: number, end: number): void {
  lines++;
  // [2026-12-07T14:05:01.123Z] "GET /path HTTP/1.1" 200 - via_upstream - "-" 0 295 12 11 "-" "ua" "id" "authority" "host" inbound|...
  const requestEnd = after(buffer, start, end, QUOTE, 2);
  if (buffer[start] !== 0x5b || requestEnd < 0) return void unmatched++;
  const code = readNumber(buffer, requestEnd + 1, end);
  // flags, details, termination details, then the quoted failure reason; bytes received and sent, duration.
  const failureEnd = after(buffer, after(buffer, code.next, end, QUOTE), end, QUOTE);
  const received = after(buffer, failureEnd, end, SPACE);
  const durationAt = after(buffer, received, end, SPACE, 2);
  if (failureEnd < 0 || durationAt < 0) return void unmatched++;
  const duration = readNumber(buffer, durationAt, end);
  // upstream service time, then x-forwarded-for, user agent, request id (quoted), then the authority.
  const authorityAt = after(buffer, duration.next, end, QUOTE, 7);
  const authorityEnd = authorityAt < 0 ? -1 : buffer.indexOf(QUOTE, authorityAt);
  const clusterAt = authorityEnd < 0 ? -1 : after(buffer, authorityEnd + 1, end, QUOTE, 2);
  if (clusterAt < 0 || clusterAt + 1 >= end) return void unmatched++;
  const direction = buffer[clusterAt + 1] === 0x69 ? "inbound" : "outbound";
  const key = `${buffer.toString("latin1", start + 1, start + 17)}|${buffer.toString("latin1", authorityAt, authorityEnd)}|${direction}|${code.value}`;
  let aggregate = aggregates.get(key);
  if (aggregate === undefined) {
    aggregate = { count: 0, durationSumMs: 0, histogram: new Array<number>(BUCKETS_MS.length + 1).fill(0) };
    aggregates.set(key, aggregate);
  }
  aggregate.count++;
  aggregate.durationSumMs += duration.value;
  let bucket = 0;
  while (bucket < BUCKETS_MS.length && duration.value > (BUCKETS_MS[bucket] as number)) bucket++;
  (aggregate.histogram[bucket] as number)++;
}

const file = process.argv[2];
if (file === undefined) throw new Error("usage: bare-istio-scanner FILE");
const descriptor = openSync(file, "r");
let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
let carried = 0;
for (;;) {
  const read = readSync(descriptor, buffer, carried, buffer.length - carried, null);
  const filled = carried + read;
  let start = 0;
  for (let newline = buffer.indexOf(NEWLINE, 0); newline >= 0 && newline < filled; newline = buffer.indexOf(NEWLINE, start)) {
    if (newline > start) scanLine(buffer, start, newline);
    start = newline + 1;
  }
  if (read === 0) {
    if (filled > start) scanLine(buffer, start, filled);
    break;
  }
  carried = filled - start;
  // A line longer than the buffer grows it; otherwise the partial line moves to the front.
  const next = carried === buffer.length ? Buffer.allocUnsafe(buffer.length * 2) : buffer;
  buffer.copy(next, 0, start, filled);
  buffer = next;
}
let requests = 0;
for (const aggregate of aggregates.values()) requests += aggregate.count;
process.stdout.write(`${JSON.stringify({ lines, unmatched, requests, series: aggregates.size })}\n`);
