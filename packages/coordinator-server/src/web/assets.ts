// The dashboard's static assets (stylesheet and script), served from memory
// under a name that carries their content hash: browsers may cache them for
// ever, and a new coordinator version gets new names.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { SCRIPT } from './assets/script.js';
import { STYLE } from './assets/style.js';
import { WEB_BASE, type WebEnv } from './web-env.js';

/** The dashboard's assets. */
export type AssetName = 'style' | 'script';

interface Asset {
  readonly file: string;
  readonly type: string;
  readonly body: string;
}

const ASSETS: Record<AssetName, Asset> = {
  style: named('style', 'css', 'text/css; charset=utf-8', STYLE),
  script: named('dashboard', 'js', 'text/javascript; charset=utf-8', SCRIPT),
};

function named(stem: string, ext: string, type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { file: `${stem}-${hash}.${ext}`, type, body };
}

/** The URL path of an asset. */
export function assetUrl(name: AssetName): string {
  return `${WEB_BASE}/assets/${ASSETS[name].file}`;
}

/** Mounts `GET /assets/{file}` on the dashboard's app (no session needed: nothing in them is secret). */
export function mountAssets(web: Hono<WebEnv>): void {
  const byFile = new Map(Object.values(ASSETS).map((a) => [a.file, a]));
  web.get('/assets/:file', (c) => {
    const asset = byFile.get(c.req.param('file'));
    if (asset === undefined) return c.text('no such asset', 404);
    return c.body(asset.body, 200, {
      'Content-Type': asset.type,
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
}
