// What a coordinator publishes, seen from outside: the narinfo on its binary
// cache (over HTTP) and the files under its data directory's NAR area.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The narinfo of `storePath` from the cache at `agentUrl`: its status and parsed fields (`null` unless 200). */
export async function fetchNarinfo(
  agentUrl: string,
  storePath: string,
): Promise<{ status: number; fields: Map<string, string> | null }> {
  const hash = storePath.slice(storePath.lastIndexOf('/') + 1).slice(0, 32);
  const res = await fetch(`${agentUrl}/${hash}.narinfo`);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, fields: null };
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(': ');
    if (at > 0 && !fields.has(line.slice(0, at))) fields.set(line.slice(0, at), line.slice(at + 2));
  }
  return { status: res.status, fields };
}

/** The bytes at `url` relative to the cache (e.g. a narinfo's `URL:`). */
export async function fetchCacheFile(agentUrl: string, url: string): Promise<Uint8Array> {
  const res = await fetch(`${agentUrl}/${url.replace(/^\/+/, '')}`);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Every regular file under `<dataDir>/<area>` (relative, sorted); empty when the area does not exist. */
export function filesInArea(dataDir: string, area: 'nar' | 'log' | 'scratch'): string[] {
  const root = join(dataDir, area);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)));
  }
  return out.sort();
}
