import { createReadStream } from "node:fs";
import { access, constants } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ProxyRole } from "../core/model/access-log.ts";
import { CONFIG_FILE_HELP, formatCommandHelp, settingGroups } from "../core/config/describe.ts";
import type { ConfigSections } from "../core/config/section.ts";
import { Lifecycle, type Component } from "../core/lifecycle.ts";
import type { RetentionPolicy, StorageReader, StorageWriter } from "../core/storage/port.ts";
import type { RejectCounter } from "../core/telemetry/rejects.ts";
import { staticIdentityFrom, type OperatorIdentity } from "./access-log-source.ts";
import { coveredByAll } from "./aggregate/minute-admission.ts";
import { createCollector, type Collector } from "./collector.ts";
import type { CollectorConfig } from "./config.ts";
import { INSTANCE_NAME_PATTERN, SERVICE_NAME_PATTERN } from "./receivers/access-log/config.ts";
import { receiversSection } from "./receivers/config.ts";
import { formatSummary, judgeIngest, ProgressLine, type IngestSummary, type ProgressTerminal } from "./ingest-report.ts";
import { createLineParser } from "./receivers/access-log/formats.ts";
import { identityFromStatic } from "./receivers/access-log/source-identity.ts";
import { addProgress, ingestStream, NO_TOTALS, type IngestTotals } from "./receivers/access-log/stream-ingest.ts";

/**
 * `meshsight ingest`: loads access-log lines from stdin through the collector pipeline into the configured
 * storage, for backfills, demos and trying a format, without running listeners. cli.ts parses and
 * dispatches; this module owns the run.
 */
/** `meshsight ingest --help`: its own flags, then the settings it reads from the configuration, laid out as start --help. */
export function formatIngestHelp(sections: ConfigSections, width?: number): string {
  return formatCommandHelp(
    {
      usage: "meshsight ingest --format FORMAT [flags] [FILE ...]",
      about: [
        "Reads access-log lines from the FILEs in turn, or stdin (default, also named -), into storage (the one meshsight start uses with the same settings), then flushes and prints the totals, the rejects by reason and the time range stored.",
        "Lines are aggregated by their own time, so a log of any age loads whole: a line older than the storage's minute retention (--retention-minute-days) is rejected as expired, and one more than --lateness-seconds behind the newest minute read before it in its file as late. Ingesting the same lines twice counts them twice.",
      ],
      groups: [
        {
          title: "ingest",
          flags: [
            { flag: "--format <FORMAT>", description: "Required. istio, envoy, json, mosn, custom:<format> or mosn:<format>." },
            { flag: "--service <SERVICE[.NAMESPACE]>", description: "The service whose proxy wrote the lines." },
            { flag: "--instance <POD[.NAMESPACE]>", description: "The pod whose proxy wrote the lines." },
            { flag: "--role <sidecar|router|waypoint>", defaultValue: "sidecar", description: "What kind of proxy wrote the lines." },
            { flag: "--max-reject-share <SHARE>", defaultValue: "none", description: "Fail (exit 3) when more than SHARE (0..1) of the lines were not accepted." },
          ],
        },
        { flags: [CONFIG_FILE_HELP] },
        ...settingGroups(sections, INGEST_SECTIONS),
      ],
      notes: [
        "Every other flag of meshsight start --help is accepted too; these are the settings ingest reads.",
        "Exit codes: 0 lines stored; 1 storage failed or the run was interrupted; 2 bad command line; 3 nothing stored from a non-empty input, or more lines not accepted than --max-reject-share allows.",
      ],
    },
    width,
  );
}

/** The configuration sections a run of ingest reads: where rows go, how records are aggregated, and its log. */
const INGEST_SECTIONS = ["storage", "collector", "log"];

export class IngestUsageError extends Error {
  override readonly name = "IngestUsageError";
}

export interface IngestCommandOptions {
  format: string;
  identity: OperatorIdentity;
  /** Share of lines not accepted above which the run fails (exit 3); undefined: no limit. */
  maxRejectShare?: number;
  /** Files read in turn, each with its own watermark; empty: stdin. `-` is stdin too. */
  files: string[];
}

export interface ParsedIngestArgs {
  options: IngestCommandOptions;
  /** Everything that is not this command's own flag: config flags (`--data-dir`, `--clickhouse-url`, ...). */
  configArgs: string[];
}

const OWN_FLAGS = new Set(["format", "service", "instance", "role", "max-reject-share"]);
const ROLES: readonly ProxyRole[] = ["sidecar", "router", "waypoint"];

/**
 * Splits this command's flags (`--format x` or `--format=x`) and its files from the config flags loadConfig
 * reads. Every config flag takes a value, so the word after `--data-dir` is its value, never a file.
 */
export function parseIngestArgs(args: readonly string[]): ParsedIngestArgs {
  const own = new Map<string, string>();
  const configArgs: string[] = [];
  const files: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (match === null) {
      if (arg === "-" || !arg.startsWith("-")) files.push(arg);
      else configArgs.push(arg);
      continue;
    }
    if (!OWN_FLAGS.has(match[1] as string)) {
      configArgs.push(arg);
      if (match[2] === undefined && index + 1 < args.length) configArgs.push(args[++index] as string);
      continue;
    }
    const name = match[1] as string;
    const value = match[2] ?? args[++index];
    if (value === undefined || value === "") throw new IngestUsageError(`--${name} needs a value`);
    if (own.has(name)) throw new IngestUsageError(`--${name} is given twice`);
    own.set(name, value);
  }
  const options: IngestCommandOptions = { format: checkedFormat(own.get("format")), identity: checkedIdentity(own), files };
  const share = own.get("max-reject-share");
  if (share !== undefined) options.maxRejectShare = checkedShare(share);
  return { options, configArgs };
}

function checkedShare(text: string): number {
  const share = Number(text);
  if (!(/^[0-9.]+$/.test(text) && share >= 0 && share <= 1)) throw new IngestUsageError(`--max-reject-share ${JSON.stringify(text)}: expected a number from 0 to 1`);
  return share;
}

function checkedFormat(format: string | undefined): string {
  if (format === undefined) throw new IngestUsageError("--format is required (istio, envoy, json, mosn, custom:<format> or mosn:<format>)");
  try {
    createLineParser(format);
  } catch (error) {
    throw new IngestUsageError(`--format: ${(error as Error).message}`);
  }
  return format;
}

function checkedIdentity(own: ReadonlyMap<string, string>): OperatorIdentity {
  const identity: OperatorIdentity = {};
  const service = own.get("service");
  if (service !== undefined) {
    if (!SERVICE_NAME_PATTERN.test(service)) throw new IngestUsageError(`--service ${JSON.stringify(service)}: expected SERVICE or SERVICE.NAMESPACE`);
    identity.service = service;
  }
  const instance = own.get("instance");
  if (instance !== undefined) {
    if (!INSTANCE_NAME_PATTERN.test(instance)) throw new IngestUsageError(`--instance ${JSON.stringify(instance)}: expected POD, POD.NAMESPACE or IP:PORT`);
    identity.instance = instance;
  }
  const role = own.get("role");
  if (role !== undefined) {
    const known = ROLES.find((candidate) => candidate === role);
    if (known === undefined) throw new IngestUsageError(`--role ${JSON.stringify(role)}: expected one of ${ROLES.join(", ")}`);
    identity.role = known;
  }
  return identity;
}

export interface IngestCommandDeps {
  options: IngestCommandOptions;
  collectorConfig: CollectorConfig;
  /** Storage's retention: lines older than its minute retention are rejected as expired. */
  retention: Pick<RetentionPolicy, "minuteDays">;
  /** stdin: read when no file is named, or for `-`. */
  input: Readable;
  /** Storage as `meshsight start` builds it: the adapter and the lifecycle component that opens and closes it. */
  storage: { writer: StorageWriter; reader: StorageReader; component: Component };
  dataDir: string;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  /** stderr: the progress line, when it is a terminal. */
  progress: ProgressTerminal;
  /** stdout: the totals. */
  output: { write(text: string): unknown };
  /** Ctrl-C: stop reading, flush what was taken, report. */
  signal?: AbortSignal;
  now?: () => number;
}

/** At most this often the progress line is redrawn: faster is unreadable and costs CPU. */
const PROGRESS_INTERVAL_MS = 250;
/** Files are read 1 MiB at a time, as the benchmarks' tailer path reads them (Node's default is 64 KiB). */
const FILE_CHUNK_BYTES = 1024 * 1024;
/** The final flush writes every open minute; unlike a pod's shutdown, nobody is waiting to kill us. */
const STOP_TIMEOUT_MS = 120_000;
/** The flusher's reject source: rows it counts there never reached storage. */
const FLUSH_REJECT_SOURCE = "flush";

/**
 * Runs the pipeline and storage (no listeners, no tailers), ingests `input` by its own time (one event-time
 * input, collector.ts), flushes by stopping, prints the totals and returns the exit code (judgeIngest).
 * Throws IngestUsageError when the collector cannot be set up from the config, and lets the lifecycle's
 * StartupError through when storage cannot be reached.
 */
export async function runIngestCommand(deps: IngestCommandDeps): Promise<number> {
  const { logger } = deps;
  await checkReadable(deps.options.files);
  const collector = await createCollector(
    { host: "127.0.0.1", writer: deps.storage.writer, reader: deps.storage.reader, registry: deps.registry, rejects: deps.rejects, logger, dataDir: deps.dataDir },
    // No listener starts here (pipelineComponents only), so the receivers keep their defaults.
    { collector: deps.collectorConfig, receivers: receiversSection.schema.parse({}), storage: { retention: deps.retention } },
  ).catch((error: unknown) => {
    throw new IngestUsageError(`cannot set up the collector: ${error instanceof Error ? error.message : String(error)}`);
  });
  const lifecycle = new Lifecycle({ components: [deps.storage.component, ...collector.pipelineComponents], logger, stopTimeoutMs: STOP_TIMEOUT_MS });
  await lifecycle.start();

  const progressLine = new ProgressLine(deps.progress);
  const stop = (): Promise<boolean> => {
    progressLine.finish();
    // Stopping is what flushes: every open minute is written before storage closes.
    return lifecycle.stop();
  };
  const { totals, covered } = await ingestInputs(deps, collector, progressLine).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const isClean = await stop();
  const summary: IngestSummary = {
    totals,
    droppedRows: await rowsStorageRefused(deps.registry),
    wasInterrupted: !totals.isComplete || deps.signal?.aborted === true,
    covered,
  };
  deps.output.write(formatSummary(summary));
  if (!isClean) deps.output.write("storage failed: the final flush did not finish; see the log on stderr\n");
  const verdict = judgeIngest(summary, isClean, deps.options.maxRejectShare);
  if (verdict.message !== "") deps.output.write(`failed: ${verdict.message}\n`);
  return verdict.code;
}

/** A file that cannot be read is a mistake on the command line, found before anything is stored. */
async function checkReadable(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (file === "-") continue;
    try {
      await access(file, constants.R_OK);
    } catch (error) {
      throw new IngestUsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
}

/**
 * Reads the files in turn (or stdin), each as an event-time input of its own: files of different ages or
 * pods each follow their own watermark, so an older file read after a newer one is not late.
 */
async function ingestInputs(deps: IngestCommandDeps, collector: Collector, progressLine: ProgressLine): Promise<{ totals: IngestTotals; covered: ReturnType<typeof coveredByAll> }> {
  const names = deps.options.files.length === 0 ? ["-"] : deps.options.files;
  let totals = NO_TOTALS;
  const covered = [];
  for (const name of names) {
    if (deps.signal?.aborted === true) break;
    const input = collector.eventTimeInput();
    const earlier = totals;
    const fileTotals = await ingestStream(name === "-" ? interruptible(deps.input, deps.signal) : createReadStream(name, { highWaterMark: FILE_CHUNK_BYTES }), {
      format: deps.options.format,
      proxy: identityFromStatic(staticIdentityFrom(deps.options.identity)),
      ingest: input.ingest,
      rejects: deps.rejects,
      onProgress: (progress) => progressLine.update(addProgress(earlier, progress)),
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    });
    input.ingest.end?.();
    totals = addProgress(earlier, fileTotals);
    covered.push(input.covered());
    if (!fileTotals.isComplete) break;
  }
  return { totals, covered: coveredByAll(covered) };
}

/**
 * Stdin as a stream that ends when `signal` fires: ingestStream looks at the signal only between chunks,
 * and a Ctrl-C while stdin is idle (a slow pipe, a terminal) must still end the run with what was taken.
 * A file never idles, so it is read directly (the extra pipe cost ~10 % of the run's CPU).
 */
function interruptible(input: Readable, signal: AbortSignal | undefined): Readable {
  if (signal === undefined) return input;
  const output = new PassThrough();
  input.pipe(output);
  signal.addEventListener(
    "abort",
    () => {
      input.unpipe(output);
      output.end();
    },
    { once: true },
  );
  return output;
}

/**
 * Rows the flusher gave up on, from meshsight_rejected_total: they are rows, not lines, lost after the lines
 * were accounted for, so the summary states them apart from the lines' rejects.
 */
async function rowsStorageRefused(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("meshsight_rejected_total")?.get();
  let rows = 0;
  for (const value of metric?.values ?? []) if (value.labels.source === FLUSH_REJECT_SOURCE) rows += value.value;
  return rows;
}
