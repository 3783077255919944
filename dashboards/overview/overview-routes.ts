import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { createError } from "../../core/http/errors.ts";
import { assetFrom, contentTypeOf, loadAssetFolder, type StaticAsset } from "./static-assets.ts";

/**
 * The built-in overview page (docs/dashboards.md "Built-in page"): `/` and its files under `/ui/`.
 * The page is plain ES modules read by the browser as they are (there is no build step), plus uPlot
 * served from node_modules so the page works offline and without a CDN.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const UI_FOLDER = join(HERE, "ui");
const PAGE_TEMPLATE = join(HERE, "index.html");
const IMPORT_MAP_PLACEHOLDER = "<!-- import map -->";
/** The only uPlot files the page loads. */
const UPLOT_FILES = ["uPlot.esm.js", "uPlot.min.css"] as const;

/** The page's own files change with meshsight's version: the browser revalidates each time (cheap 304s). */
const REVALIDATE = "no-cache";
/** Vendor URLs carry the library's version, so a cached copy can never be stale. */
const IMMUTABLE = "public, max-age=31536000, immutable";

interface OverviewPage {
  page: StaticAsset;
  contentSecurityPolicy: string;
  uiAssets: Map<string, StaticAsset>;
  vendorPath: string;
  vendorAssets: Map<string, StaticAsset>;
}

async function loadUplot(): Promise<{ version: string; assets: Map<string, StaticAsset> }> {
  const packageJsonPath = createRequire(import.meta.url).resolve("uplot/package.json");
  const { version } = JSON.parse(await readFile(packageJsonPath, "utf8")) as { version: string };
  const assets = new Map<string, StaticAsset>();
  for (const file of UPLOT_FILES) {
    assets.set(file, assetFrom(await readFile(join(dirname(packageJsonPath), "dist", file)), contentTypeOf(file) ?? "application/octet-stream"));
  }
  return { version, assets };
}

async function loadOverviewPage(): Promise<OverviewPage> {
  const [template, uiAssets, uplot] = await Promise.all([readFile(PAGE_TEMPLATE, "utf8"), loadAssetFolder(UI_FOLDER), loadUplot()]);
  const vendorPath = `vendor/uplot-${uplot.version}`;
  // Relative URLs keep the page working behind a reverse proxy that mounts meshsight under a path prefix.
  const importMap = JSON.stringify({ imports: { uplot: `./ui/${vendorPath}/uPlot.esm.js` } });
  if (!template.includes(IMPORT_MAP_PLACEHOLDER)) throw new Error(`${PAGE_TEMPLATE} lacks the ${IMPORT_MAP_PLACEHOLDER} placeholder`);
  const html = template.replace(IMPORT_MAP_PLACEHOLDER, `<script type="importmap">${importMap}</script>`).replaceAll("{{uplotCss}}", `./ui/${vendorPath}/uPlot.min.css`);
  // The import map is the page's only inline script; allowing exactly its hash keeps every other inline script out.
  const importMapHash = createHash("sha256").update(importMap).digest("base64");
  const contentSecurityPolicy = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { page: assetFrom(html, "text/html; charset=utf-8"), contentSecurityPolicy, uiAssets, vendorPath, vendorAssets: uplot.assets };
}

function send(request: FastifyRequest, reply: FastifyReply, asset: StaticAsset, cacheControl: string): FastifyReply {
  reply.header("cache-control", cacheControl).header("etag", asset.etag).header("x-content-type-options", "nosniff");
  if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}

function assetNamed(assets: Map<string, StaticAsset>, name: string): StaticAsset {
  const asset = assets.get(name);
  if (asset === undefined) throw createError("MS_NOT_FOUND", { kind: "page file", name });
  return asset;
}

export function overviewRoutes(): FastifyPluginAsync {
  return async (app) => {
    const overview = await loadOverviewPage();

    app.get("/", { config: { scope: "read" } }, async (request, reply) => {
      reply.header("content-security-policy", overview.contentSecurityPolicy).header("referrer-policy", "no-referrer");
      return send(request, reply, overview.page, REVALIDATE);
    });

    app.get<{ Params: { file: string } }>("/ui/:file", { config: { scope: "read" } }, async (request, reply) =>
      send(request, reply, assetNamed(overview.uiAssets, request.params.file), REVALIDATE),
    );

    app.get<{ Params: { file: string } }>(`/ui/${overview.vendorPath}/:file`, { config: { scope: "read" } }, async (request, reply) =>
      send(request, reply, assetNamed(overview.vendorAssets, request.params.file), IMMUTABLE),
    );
  };
}
