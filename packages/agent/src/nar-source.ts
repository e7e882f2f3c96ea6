// Where a store path's NAR can be had: the coordinator's cache first, then
// plain HTTP binary caches (substitute URLs). Each answers a narinfo and the
// (compressed) NAR it points to. Substitutes are untrusted: every request is
// bounded in time (the NAR by inactivity), and a NAR is fetched only from the
// server whose narinfo named it.
import type { AgentClient } from '@gbc/protocol';
import { parseNarInfo, storePathHashPart } from '@gbc/store';
import type { NarInfo } from '@gbc/store';
import { AgentError } from './errors.js';

/** A binary cache the agent can fetch from. */
export interface NarSource {
  /** For messages: the coordinator, or the URL. */
  readonly name: string;
  /** The narinfo of `path`, or null when the cache lacks it. */
  narinfo(path: string): Promise<NarInfo | null>;
  /** The file a narinfo points to. */
  nar(url: string): Promise<AsyncIterable<Uint8Array>>;
}

/** The coordinator's binary cache, through the agent client. */
export function coordinatorSource(client: AgentClient, storeDir: string): NarSource {
  return {
    name: 'the coordinator',
    async narinfo(path) {
      const text = await client.narinfo(storePathHashPart(path));
      return text === null ? null : parseNarInfo(text, { storeDir });
    },
    nar(url) {
      return client.nar(url);
    },
  };
}

/** A Nix or Guix binary cache at `baseUrl` (e.g. `https://bordeaux.guix.gnu.org`). */
export function httpSource(baseUrl: string, storeDir: string, timeoutMs = 30_000): NarSource {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    name: base,
    async narinfo(path) {
      const res = await fetch(`${base}/${storePathHashPart(path)}.narinfo`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 404 || res.status === 410) return null;
      if (!res.ok) throw httpError(`${base}: narinfo of ${path}`, res.status);
      return parseNarInfo(await res.text(), { storeDir });
    },
    async nar(url) {
      // A narinfo may name its NAR anywhere; only this cache's own server is trusted to serve it.
      const target = new URL(url, `${base}/`);
      if (target.origin !== new URL(base).origin) {
        throw new AgentError(
          'source-refused',
          `${base}: the narinfo points to a NAR on another server (${target.origin}); not fetched`,
        );
      }
      // Bounded by inactivity, not by length: a large NAR may take long, a stalled one may not.
      const abort = new AbortController();
      let timer = setTimeout(() => abort.abort(new Error(`no data for ${timeoutMs} ms`)), timeoutMs);
      const res = await fetch(target, { signal: abort.signal }).catch((error: unknown) => {
        clearTimeout(timer);
        throw error;
      });
      if (!res.ok || res.body === null) {
        clearTimeout(timer);
        throw httpError(`${base}: ${url}`, res.status);
      }
      const body = res.body as unknown as AsyncIterable<Uint8Array>;
      return (async function* () {
        try {
          for await (const chunk of body) {
            clearTimeout(timer);
            timer = setTimeout(() => abort.abort(new Error(`no data for ${timeoutMs} ms`)), timeoutMs);
            yield chunk;
          }
        } finally {
          clearTimeout(timer);
        }
      })();
    },
  };
}

/** An HTTP error of a binary cache: `source-unavailable` (retried) for 429 and 5xx, else `source-refused`. */
function httpError(what: string, status: number): AgentError {
  const transient = status === 429 || status >= 500;
  return new AgentError(transient ? 'source-unavailable' : 'source-refused', `${what}: HTTP ${status}`);
}
