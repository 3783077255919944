// Compiles the runtime sources to JavaScript under dist/ (run by `npm install` as the `prepare` script, and by
// `npm run build`), so `meshsight` starts without a TypeScript loader. Plain JavaScript: it runs before any
// loader is there to run it.
//
// One output file per source file, at the same place under dist/, and every file the code reads at run time
// (.proto, .sql, the built-in page's files) copied next to it: paths built from `import.meta.url` then hold
// as they do in the sources. Imports are left as they are (packages, native modules included) except that
// `./x.ts` becomes `./x.js`; imported data (package.json) is inlined.
import { cpSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(REPO_ROOT, "dist");
/** What the runtime consists of: the CLI and the folders of its components (test/ and bench/ stay TypeScript). */
const SOURCE_FILES = ["cli.ts", "cli-sections.ts"];
const SOURCE_FOLDERS = ["core", "collector", "prober", "analyzer", "dashboards"];

const isTypeScript = (name) => name.endsWith(".ts") && !name.endsWith(".d.ts");

function typeScriptFilesUnder(folder) {
  return readdirSync(join(REPO_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && isTypeScript(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Keeps every module out of the output file that imports it, a sibling's `.ts` path rewritten to its output. */
const importsStayImports = {
  name: "imports-stay-imports",
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (!args.path.startsWith(".")) return { path: args.path, external: true };
      if (isTypeScript(args.path)) return { path: args.path.replace(/\.ts$/, ".js"), external: true };
      return undefined;
    });
  },
};

rmSync(OUT_DIR, { recursive: true, force: true });
await build({
  entryPoints: [...SOURCE_FILES.map((file) => join(REPO_ROOT, file)), ...SOURCE_FOLDERS.flatMap(typeScriptFilesUnder)],
  outdir: OUT_DIR,
  outbase: REPO_ROOT,
  // bundle only so the plugin sees every import; it marks each one external, so no file absorbs another.
  bundle: true,
  plugins: [importsStayImports],
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
for (const folder of SOURCE_FOLDERS) {
  cpSync(join(REPO_ROOT, folder), join(OUT_DIR, folder), { recursive: true, filter: (source) => !isTypeScript(source) });
}
