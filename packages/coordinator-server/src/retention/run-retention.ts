// Applies a retention policy to a datastore and its storage, keeping the
// binary cache consistent at every instant:
//   1. in one transaction, plan and delete the removed outputs' metadata (their
//      file records go with it): from then on no narinfo names them (the
//      narinfo cache forgets them through `onOutputsRemoved`);
//   2. in one transaction, forget the removed logs (attempts.log_location);
//   3. only then delete the files. A crash between the steps leaves files
//      nobody names, which a later run removes as orphans.
// On PostgreSQL step 1 locks output_metadata against writers while it plans,
// so that a build finishing meanwhile cannot start referring to a removed path.
import { sql } from 'kysely';
import { isPg } from '@gbc/datastore';
import type { Datastore, Db } from '@gbc/datastore';
import type { Storage } from '../storage/index.js';
import { loadLogs, loadNeededPaths, loadOutputs, loadReferencedKeys } from './load.js';
import type { LoadedOutput } from './load.js';
import { planRetention } from './plan.js';
import type { RetentionPlan } from './plan.js';
import type { ResolvedRetentionPolicy } from './policy.js';

/** What a retention run works on. */
export interface RetentionTarget {
  readonly datastore: Datastore;
  /** The storage holding the NARs (`nar` area) and sealed logs (`log` area). */
  readonly storage: Storage;
  readonly policy: ResolvedRetentionPolicy;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Called with the removed outputs once their metadata is gone; awaited before any of their files is deleted. */
  onOutputsRemoved?(storePaths: readonly string[]): Promise<void> | void;
}

/** What a run removed (or, in a dry run, would remove). */
export interface RetentionResult {
  readonly dryRun: boolean;
  /** Store paths whose metadata and files were removed, oldest first. */
  readonly removedOutputs: readonly string[];
  /** Storage keys of removed sealed logs. */
  readonly removedLogs: readonly string[];
  /** NAR and log files no record named, removed after the grace period. */
  readonly orphanNars: readonly string[];
  readonly orphanLogs: readonly string[];
  /** Bytes of NAR files removed (outputs as recorded, orphans as stored). */
  readonly freedBytes: number;
  /** Bytes of NAR files of the outputs kept. */
  readonly keptBytes: number;
  /** What must be kept exceeds the size budget. */
  readonly overBudget: boolean;
}

/** Runs retention once; see the file header. With `dryRun` nothing is changed. */
export async function runRetention(
  target: RetentionTarget,
  options: { readonly dryRun?: boolean } = {},
): Promise<RetentionResult> {
  const dryRun = options.dryRun ?? false;
  const { datastore, storage, policy } = target;
  const now = target.now();
  const decide = async (db: Db): Promise<{ plan: RetentionPlan; outputs: Map<string, LoadedOutput> }> => {
    const outputs = await loadOutputs(db);
    const plan = planRetention({
      outputs,
      logs: await loadLogs(db),
      needed: await loadNeededPaths(db),
      now,
      policy,
    });
    return { plan, outputs: new Map(outputs.map((o) => [o.storePath, o])) };
  };

  const { plan, outputs } = dryRun
    ? await decide(datastore.db)
    : await datastore.transaction(async (trx) => {
        if (isPg(trx)) await sql`lock table output_metadata in share row exclusive mode`.execute(trx);
        const decided = await decide(trx);
        const paths = decided.plan.removeOutputs.map((o) => o.storePath);
        for (let i = 0; i < paths.length; i += 500)
          await trx
            .deleteFrom('output_metadata')
            .where('store_path', 'in', paths.slice(i, i + 500))
            .execute();
        return decided;
      });
  if (!dryRun && plan.removeLogs.length > 0) {
    await datastore.transaction(async (trx) => {
      for (const log of plan.removeLogs)
        await trx
          .updateTable('attempts')
          .set({ log_location: null })
          .where('id', '=', log.attemptId)
          .where('log_location', '=', log.key)
          .execute();
    });
  }
  // Sizes as recorded (no stat per file); the files go 16 at a time.
  let freedBytes = plan.freedBytes;
  if (!dryRun) {
    await target.onOutputsRemoved?.(plan.removeOutputs.map((o) => o.storePath));
    await eachLimited(
      plan.removeOutputs.flatMap((o) => outputs.get(o.storePath)?.locations ?? []),
      (key) => storage.delete('nar', key),
    );
    await eachLimited(plan.removeLogs, (log) => storage.delete('log', log.key));
  }

  const orphans = await findOrphans(
    datastore.db,
    storage,
    now - policy.orphanGraceSeconds * 1000,
    new Set(plan.removeOutputs.flatMap((o) => outputs.get(o.storePath)?.locations ?? [])),
    new Set(plan.removeLogs.map((l) => l.key)),
  );
  freedBytes += orphans.nars.reduce((n, o) => n + o.size, 0);
  if (!dryRun) {
    await eachLimited(orphans.nars, (nar) => storage.delete('nar', nar.key));
    await eachLimited(orphans.logs, (key) => storage.delete('log', key));
  }
  return {
    dryRun,
    removedOutputs: plan.removeOutputs.map((o) => o.storePath),
    removedLogs: plan.removeLogs.map((l) => l.key),
    orphanNars: orphans.nars.map((n) => n.key),
    orphanLogs: orphans.logs,
    freedBytes,
    keptBytes: plan.keptBytes,
    overBudget: plan.overBudget,
  };
}

/** Stored files older than `before` that no record names (and that this run does not already remove). */
async function findOrphans(
  db: Db,
  storage: Storage,
  before: number,
  removingNars: ReadonlySet<string>,
  removingLogs: ReadonlySet<string>,
): Promise<{ nars: { key: string; size: number }[]; logs: string[] }> {
  const named = await loadReferencedKeys(db);
  const nars: { key: string; size: number }[] = [];
  for await (const o of storage.list('nar')) {
    if (!named.nars.has(o.key) && !removingNars.has(o.key) && o.modifiedAt.getTime() < before)
      nars.push({ key: o.key, size: o.size });
  }
  const logs: string[] = [];
  for await (const o of storage.list('log')) {
    if (!named.logs.has(o.key) && !removingLogs.has(o.key) && o.modifiedAt.getTime() < before)
      logs.push(o.key);
  }
  return { nars: nars.sort((a, b) => (a.key < b.key ? -1 : 1)), logs: logs.sort() };
}

/** Runs `fn` over `items`, at most 16 at once. */
async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
