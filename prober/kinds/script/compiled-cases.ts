import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Loader, Plugin } from "esbuild";

/** A case file compiled, with the meshsight side of its process, into one program a child process starts from. */
interface CompiledCase {
  /** Hash over the content of every local file the program was built from. */
  fingerprint: string;
  inputs: string[];
  /** One ES module, handed to the child on its standard input: it reads no file and needs no TypeScript loader. */
  program: string;
}

/** A case that cannot be compiled (syntax or type-stripping error, an import that does not resolve). */
export class ScriptCompileError extends Error {
  override readonly name = "ScriptCompileError";
}

// Next to this module as its own kind of file: the TypeScript source, or the JavaScript built from it (dist/).
const CHILD_RUNTIME = fileURLToPath(new URL(`./script-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".json": "json" };

/**
 * Compiled script cases, reused across runs. Loading TypeScript inside every run's fresh process (tsx and
 * esbuild started each time) cost ~0.5 s of CPU per run; compiling once in the parent and starting each
 * child from the finished bundle keeps a new, isolated process per run (heap limit, hard kill) while a
 * resident script case costs little more than the process itself. A cached program is used while the
 * content of every local file it was built from is unchanged (checked before each run, so an edited case
 * or helper is picked up without a restart); packages under node_modules are not re-checked. Bounded:
 * the least recently used cases are dropped beyond `maxEntries`.
 */
export class CompiledScriptCases {
  private readonly compiled = new Map<string, CompiledCase>();
  private readonly building = new Map<string, Promise<CompiledCase>>();
  private compilations = 0;

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be an integer >= 1, got ${String(maxEntries)}`);
  }

  /** How many times a case was compiled (tests and diagnostics: a cache hit does not count). */
  get compilationCount(): number {
    return this.compilations;
  }

  /** The program for `file` (an absolute path); throws ScriptCompileError when it does not compile. */
  async programFor(file: string): Promise<string> {
    const cached = this.compiled.get(file);
    if (cached && (await fingerprintOf(cached.inputs)) === cached.fingerprint) {
      // Map order is insertion order: re-inserting makes this the most recently used entry.
      this.compiled.delete(file);
      this.compiled.set(file, cached);
      return cached.program;
    }
    let pending = this.building.get(file);
    if (!pending) {
      pending = this.compile(file).finally(() => this.building.delete(file));
      this.building.set(file, pending);
    }
    return (await pending).program;
  }

  private async compile(file: string): Promise<CompiledCase> {
    this.compilations += 1;
    const hashes = new Map<string, string>();
    let output: string;
    try {
      // Imported on the first compilation: a prober without script cases never loads esbuild.
      const { build } = await import("esbuild");
      const result = await build({
        stdin: {
          // A dynamic import, so a throw while the case file evaluates is caught and reported by the runtime.
          contents: `import { runCaseInChild } from ${JSON.stringify(CHILD_RUNTIME)};\nawait runCaseInChild(() => import(${JSON.stringify(file)}));\n`,
          resolveDir: dirname(file),
          sourcefile: "meshsight-script-entry.ts",
          loader: "ts",
        },
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        write: false,
        logLevel: "silent",
        // CommonJS packages a case bundles may require() Node built-ins; ESM output has no require of its own.
        banner: { js: `import { createRequire as __meshsightCreateRequire } from "node:module";\nconst require = __meshsightCreateRequire(${JSON.stringify(pathToFileURL(file).href)});` },
        plugins: [recordLocalInputs(hashes)],
      });
      output = result.outputFiles[0]?.text ?? "";
    } catch (error) {
      throw new ScriptCompileError(describeBuildFailure(error));
    }
    const inputs = [...hashes.keys()].sort();
    const compiled: CompiledCase = { fingerprint: combine(inputs.map((input) => [input, hashes.get(input) ?? ""])), inputs, program: output };
    this.compiled.delete(file);
    this.compiled.set(file, compiled);
    while (this.compiled.size > this.maxEntries) {
      const oldest = this.compiled.keys().next();
      if (oldest.done) break;
      this.compiled.delete(oldest.value);
    }
    return compiled;
  }
}

/**
 * Loads local files itself so the hash is of exactly the bytes that were compiled (hashing after the
 * build could pair an old program with a newer file's hash, and the edit would never be picked up).
 */
function recordLocalInputs(hashes: Map<string, string>): Plugin {
  return {
    name: "meshsight-record-inputs",
    setup(builder) {
      builder.onLoad({ filter: /.*/ }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (args.namespace !== "file" || args.path.includes("/node_modules/") || !loader) return undefined;
        const contents = await readFile(args.path);
        hashes.set(args.path, sha256(contents));
        return { contents, loader };
      });
    },
  };
}

async function fingerprintOf(inputs: readonly string[]): Promise<string> {
  try {
    return combine(await Promise.all(inputs.map(async (input): Promise<[string, string]> => [input, sha256(await readFile(input))])));
  } catch {
    // A file that went away: recompile, which reports the missing import properly.
    return "";
  }
}

function combine(entries: readonly (readonly [string, string])[]): string {
  const hash = createHash("sha256");
  for (const [path, contentHash] of entries) hash.update(`${path}\u0000${contentHash}\n`);
  return hash.digest("hex");
}

function sha256(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** esbuild's first error with its place, e.g. "checkout.ts:3:10: Expected ";" but found "x"". */
function describeBuildFailure(error: unknown): string {
  const failure = error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
  const first = failure.errors?.[0];
  if (!first) return error instanceof Error ? error.message : String(error);
  const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : "";
  return `${where}${first.text}${(failure.errors?.length ?? 0) > 1 ? ` (and ${(failure.errors?.length ?? 1) - 1} more)` : ""}`;
}
