// The files the page needs, all from this package and its dependencies (Preact and htm as
// the ES modules they ship): a fixed table, read once, so no request names a file on disk.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
}

/** `client/` beside `src/` and `dist/`. */
const CLIENT_DIR = fileURLToPath(new URL('../client/', import.meta.url));
const require = createRequire(import.meta.url);

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** Asset name (the URL path after `/assets/`) → file. */
function assetFiles(): Record<string, { file: string; type: string }> {
  const preact = packageDir('preact');
  return {
    'app.js': { file: join(CLIENT_DIR, 'app.js'), type: JAVASCRIPT },
    'style.css': { file: join(CLIENT_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
    'favicon.svg': { file: join(CLIENT_DIR, 'favicon.svg'), type: 'image/svg+xml' },
    'vendor/preact.mjs': { file: join(preact, 'dist', 'preact.mjs'), type: JAVASCRIPT },
    'vendor/preact-hooks.mjs': { file: join(preact, 'hooks', 'dist', 'hooks.mjs'), type: JAVASCRIPT },
    // htm's package.json is not exported: its main file (dist/htm.js) says where dist/ is.
    'vendor/htm.mjs': { file: join(dirname(require.resolve('htm')), 'htm.module.js'), type: JAVASCRIPT },
  };
}

export interface MonitorPage {
  html: string;
  /** Content-Security-Policy of the page: its own scripts, and its one inline import map. */
  contentSecurityPolicy: string;
}

export interface AssetTable {
  page: MonitorPage;
  get(name: string): Asset | undefined;
}

let loaded: AssetTable | undefined;

/** The page and its assets, read from disk on first use. */
export function loadAssets(): AssetTable {
  if (loaded) return loaded;
  const assets = new Map<string, Asset>();
  for (const [name, { file, type }] of Object.entries(assetFiles())) {
    // Source maps point at files the monitor does not serve: left out.
    const body = type === JAVASCRIPT ? Buffer.from(readFileSync(file, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n')) : readFileSync(file);
    assets.set(name, { body, type });
  }
  const html = readFileSync(join(CLIENT_DIR, 'index.html'), 'utf8');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const importMapHash = createHash('sha256').update(importMap).digest('base64');
  const contentSecurityPolicy = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  loaded = { page: { html, contentSecurityPolicy }, get: (name) => assets.get(name) };
  return loaded;
}

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}
