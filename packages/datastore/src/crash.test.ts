// A process killed with SIGKILL in the middle of a bulk write leaves the
// database consistent: the transaction is entirely there or not there at all.
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatastore } from './datastore.js';
import { listBuilds } from './builds-list.js';
import { removeChildLogs, spawnChild } from './testing/spawn-child.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

afterAll(removeChildLogs);

describe.each(DIALECTS)('SIGKILL during a bulk write on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  const counts = async (tag: string) => {
    const drvs = await ctx.store.db
      .selectFrom('derivations')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('name', 'like', `crash-${tag}-%`)
      .executeTakeFirstOrThrow();
    const builds = await ctx.store.db
      .selectFrom('build_tags')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('key', '=', 'crash')
      .where('value', '=', tag)
      .executeTakeFirstOrThrow();
    return [Number(drvs.n), Number(builds.n)];
  };

  it('leaves nothing of a transaction killed mid-way, and the database usable', async () => {
    const child = spawnChild('bulk-kill', ctx.database.uri, 'killed');
    await child.waitFor((l) => (l as { mid?: boolean }).mid === true);
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    expect(child.lines).not.toContainEqual({ committed: true });
    expect(await counts('killed')).toEqual([0, 0]);
    if (dialect === 'sqlite') {
      // A fresh connection recovers the WAL and finds the file intact.
      const again = await openDatastore(ctx.database.uri);
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(again.db);
      expect(check.rows).toEqual([{ integrity_check: 'ok' }]);
      await again.close();
    }
    // Writers are not left locked out.
    expect((await listBuilds(ctx.store.db, { tags: [{ key: 'crash' }] })).builds).toEqual([]);
  });

  it('keeps all of a transaction that committed', async () => {
    const child = spawnChild('bulk-commit', ctx.database.uri, 'kept');
    expect(await child.exited, child.stderr()).toBe(0);
    expect(child.lines).toContainEqual({ committed: true });
    expect(await counts('kept')).toEqual([5000, 5000]);
  });
});
