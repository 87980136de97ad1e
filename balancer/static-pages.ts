import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build, stop } from "esbuild";

/**
 * The browser pages the balancer serves: the game at `/` and the ops
 * dashboard at `/ops`. Their scripts (with the client SDK they import) and
 * the stylesheet are bundled once at start, in memory, so there is no build
 * step and nothing written to disk; every answer comes from memory with an
 * ETag, and `no-cache` makes browsers revalidate (a 304) after a deploy.
 */

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

type Asset = { body: Buffer; type: string; etag: string; headers: Record<string, string> };

const PAGES_DIR = fileURLToPath(new URL("./pages/", import.meta.url));
const BUNDLED = ["game.ts", "ops.ts", "style.css"];
const HTML_ROUTES: Record<string, string> = { "/": "game.html", "/ops": "ops.html" };
const COPIED_ASSETS = ["favicon.svg"];

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The pages load only their own scripts and styles and talk only to this
 * origin (HTTP, SSE and WebSocket); nothing may frame them (the ops page has
 * buttons that drain nodes).
 */
const HTML_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "referrer-policy": "same-origin",
};

/** Bundles and loads every asset; rejects (and the balancer does not start) when a page does not build. */
export async function createStaticPages(): Promise<PageHandler> {
  const assets = new Map<string, Asset>();
  for (const [name, body] of await bundle()) assets.set(`/assets/${name}`, asset(name, body));
  for (const name of COPIED_ASSETS) assets.set(`/assets/${name}`, asset(name, await readPage(name)));
  for (const [route, file] of Object.entries(HTML_ROUTES)) {
    assets.set(route, asset(file, await readPage(file), HTML_HEADERS));
  }
  return (req, res) => serveAsset(req, res, assets);
}

async function bundle(): Promise<[string, Buffer][]> {
  try {
    const result = await build({
      entryPoints: BUNDLED.map((file) => PAGES_DIR + file),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      minify: true,
      outdir: `${PAGES_DIR}out`,
      entryNames: "[name]",
      legalComments: "none",
      logLevel: "silent",
    });
    return result.outputFiles.map((file) => [basename(file.path), Buffer.from(file.contents)]);
  } finally {
    // One build per process: the esbuild service child is not needed afterwards.
    await stop();
  }
}

function readPage(name: string): Promise<Buffer> {
  return readFile(PAGES_DIR + name);
}

function asset(name: string, body: Buffer, headers: Record<string, string> = {}): Asset {
  const extension = name.slice(name.lastIndexOf("."));
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type: TYPES[extension] ?? "application/octet-stream", etag, headers };
}

function serveAsset(req: IncomingMessage, res: ServerResponse, assets: Map<string, Asset>): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  const found = assets.get(path);
  if (!found) return false;
  const headers = {
    ...found.headers,
    etag: found.etag,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (matchesEtag(req.headers["if-none-match"], found.etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, "content-type": found.type, "content-length": found.body.length });
  res.end(req.method === "HEAD" ? undefined : found.body);
  return true;
}

/** If-None-Match may list several tags, weak or strong; any match (or `*`) means unchanged. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
