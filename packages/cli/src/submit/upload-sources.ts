// Uploads input sources the coordinator lacks as NARs, each after the
// sources it refers to (the coordinator refuses a source whose references it
// does not hold). References are found by scanning the NAR.
import { basename } from 'node:path';
import type { CoordinatorClient } from '@gbc/protocol';
import { dumpNar, formatNarHash, hashNar } from '@gbc/store';
import type { SubmitProgress } from './submit-derivations.js';
import { scanStoreReferences } from './source-references.js';

/** Options of uploadSources. */
export interface UploadSourcesOptions {
  readonly storeDir: string;
  /** Where a store path's file is on this machine. */
  readonly realPath: (storePath: string) => string;
  readonly signal?: AbortSignal;
  readonly onProgress: (progress: SubmitProgress) => void;
  /** Which of these paths the coordinator lacks. */
  readonly missingOf: (paths: readonly string[]) => Promise<string[]>;
}

/** Uploads `sources` (known missing) and any source they refer to that the coordinator lacks, referenced ones first. */
export async function uploadSources(
  client: CoordinatorClient,
  sources: readonly string[],
  o: UploadSourcesOptions,
): Promise<void> {
  const refs = new Map<string, string[]>();
  let pending = [...sources];
  while (pending.length > 0) {
    const discovered = new Set<string>();
    for (const path of pending) {
      const found = await scanStoreReferences(dumpNar(o.realPath(path)), o.storeDir, {
        realPath: o.realPath,
      });
      refs.set(path, found);
      for (const r of found) if (!refs.has(r) && !pending.includes(r)) discovered.add(r);
    }
    pending = discovered.size === 0 ? [] : await o.missingOf([...discovered]);
  }
  const order = referencesFirst(refs);
  o.onProgress({ phase: 'sources', done: 0, total: order.length });
  for (const [i, path] of order.entries()) {
    const { narHash, narSize } = await hashNar(dumpNar(o.realPath(path)));
    const references = refs.get(path)!.map((r) => basename(r));
    await client.putSource(
      basename(path),
      { narHash: formatNarHash(narHash), narSize, references },
      dumpNar(o.realPath(path)),
      { signal: o.signal },
    );
    o.onProgress({ phase: 'sources', done: i + 1, total: order.length });
  }
}

/** Orders paths so that each comes after the paths it refers to (self-references and references outside the map ignored). */
function referencesFirst(refs: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of refs.keys()) {
    const stack: Array<{ path: string; next: number }> = [{ path: start, next: 0 }];
    if (state.has(start)) continue;
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = refs.get(top.path)!;
      const dep = deps[top.next++];
      if (dep === undefined) {
        stack.pop();
        state.set(top.path, 'done');
        order.push(top.path);
      } else if (dep !== top.path && refs.has(dep) && !state.has(dep)) {
        state.set(dep, 'visiting');
        stack.push({ path: dep, next: 0 });
      }
    }
  }
  return order;
}
