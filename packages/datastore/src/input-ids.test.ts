// Input derivations by id (migrations 0003 and 0005): ids resolved whatever the
// order in which derivations are recorded, the path stored only while the
// input is unrecorded, the reverse walk (blocking dependents) by id, and
// databases holding a graph from before each migration brought up to date.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { markDependentsBlocked } from './blocking.js';
import { createBuilds } from './builds-create.js';
import { getBuild } from './builds-show.js';
import { openDatastore } from './datastore.js';
import { getDerivation, recordDerivations } from './derivations.js';
import { migrateToLatest } from './migrate.js';
import { fakeChain, fakeDerivation } from './testing/fixtures.js';
import { DIALECTS, createTestDatabase } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';
import type { Db } from './transaction.js';

async function inputIds(db: Db, path: string): Promise<(number | null)[]> {
  const rows = await db
    .selectFrom('derivation_inputs as i')
    .innerJoin('derivations as d', 'd.id', 'i.derivation_id')
    .select('i.input_id')
    .where('d.path', '=', path)
    .execute();
  return rows.map((r) => (r.input_id === null ? null : Number(r.input_id)));
}

async function idOf(db: Db, path: string): Promise<number> {
  return Number(
    (await db.selectFrom('derivations').select('id').where('path', '=', path).executeTakeFirstOrThrow()).id,
  );
}

describe.each(DIALECTS)('input derivations by id on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('resolves inputs recorded before, in the same call, and after their dependent', async () => {
    const [a, b] = fakeChain(2, 'ids-before');
    await recordDerivations(ctx.store.db, [a!]);
    await recordDerivations(ctx.store.db, [b!]);
    expect(await inputIds(ctx.store.db, b!.path)).toEqual([await idOf(ctx.store.db, a!.path)]);

    const [c, d] = fakeChain(2, 'ids-same');
    await recordDerivations(ctx.store.db, [d!, c!]);
    expect(await inputIds(ctx.store.db, d!.path)).toEqual([await idOf(ctx.store.db, c!.path)]);

    const [e, f] = fakeChain(2, 'ids-after');
    await recordDerivations(ctx.store.db, [f!]);
    expect(await inputIds(ctx.store.db, f!.path)).toEqual([null]);
    await recordDerivations(ctx.store.db, [e!]);
    expect(await inputIds(ctx.store.db, f!.path)).toEqual([await idOf(ctx.store.db, e!.path)]);
  });

  it('stores an input by path only until its derivation is recorded, and always shows its path', async () => {
    const [e, f] = fakeChain(2, 'edges');
    const stored = async () =>
      (
        await ctx.store.db
          .selectFrom('derivation_input_edges')
          .select(['input_id', 'input_path'])
          .where('derivation_id', '=', await idOf(ctx.store.db, f!.path))
          .execute()
      ).map((r) => [r.input_id === null ? null : Number(r.input_id), r.input_path]);
    await recordDerivations(ctx.store.db, [f!]);
    expect(await stored()).toEqual([[null, e!.path]]);
    expect((await getDerivation(ctx.store.db, f!.path))?.inputDerivations).toEqual([
      { path: e!.path, outputs: ['out'] },
    ]);
    await recordDerivations(ctx.store.db, [e!]);
    expect(await stored()).toEqual([[await idOf(ctx.store.db, e!.path), null]]);
    expect((await getDerivation(ctx.store.db, f!.path))?.inputDerivations).toEqual([
      { path: e!.path, outputs: ['out'] },
    ]);
    // A row naming its input both ways, or neither, is refused by the schema.
    const id = await idOf(ctx.store.db, f!.path);
    await expect(
      sql`insert into derivation_input_edges (derivation_id, input_id, input_path, output_name) values (${id}, ${id}, ${e!.path}, 'out')`.execute(
        ctx.store.db,
      ),
    ).rejects.toThrow(/check/i);
    await expect(
      sql`insert into derivation_input_edges (derivation_id, output_name) values (${id}, 'out')`.execute(
        ctx.store.db,
      ),
    ).rejects.toThrow(/check/i);
  });

  it('blocks the transitive dependents of a failed derivation, however their inputs were recorded', async () => {
    const base = fakeDerivation('block-base');
    const mid = fakeDerivation('block-mid', { inputs: [base] });
    const top = fakeDerivation('block-top', { inputs: [mid] });
    const other = fakeDerivation('block-other');
    await recordDerivations(ctx.store.db, [top, other]);
    await recordDerivations(ctx.store.db, [mid]);
    await recordDerivations(ctx.store.db, [base]);
    const [topBuild, otherBuild] = await createBuilds(ctx.store.db, [
      { derivationPath: top.path },
      { derivationPath: other.path },
    ]);
    expect(await markDependentsBlocked(ctx.store.db, base.path)).toEqual([topBuild!.id]);
    expect((await getBuild(ctx.store.db, topBuild!.id))?.blockedBy).toBe(base.path);
    expect((await getBuild(ctx.store.db, otherBuild!.id))?.blockedBy).toBeNull();
  });

  it('migration 0003 gives the inputs of a graph recorded before it their ids', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const raw = await openDatastore(database.uri, { migrate: false });
      await migrateToLatest(raw.db, dialect, '0002-list-indexes');
      const [a, b, c] = fakeChain(3, 'old');
      const orphan = fakeDerivation('old-orphan', { inputs: [fakeDerivation('never-recorded')] });
      for (const drv of [a!, b!, c!, orphan]) {
        const text = Buffer.from(drv.text);
        const id = (
          await sql<{
            id: number;
          }>`insert into derivations (path, name, system, fixed_output, text) values (${drv.path}, ${drv.name}, ${drv.system}, 0, ${text}) returning id`.execute(
            raw.db,
          )
        ).rows[0]!.id;
        for (const input of drv.inputDerivations) {
          await sql`insert into derivation_inputs (derivation_id, input_path, output_name) values (${id}, ${input.path}, 'out')`.execute(
            raw.db,
          );
        }
      }
      expect(await raw.migrate()).toContain('0003-input-ids');
      expect(await inputIds(raw.db, b!.path)).toEqual([await idOf(raw.db, a!.path)]);
      expect(await inputIds(raw.db, c!.path)).toEqual([await idOf(raw.db, b!.path)]);
      expect(await inputIds(raw.db, orphan.path)).toEqual([null]);
      const [build] = await createBuilds(raw.db, [{ derivationPath: c!.path }]);
      expect(await markDependentsBlocked(raw.db, a!.path)).toEqual([build!.id]);
      await raw.close();
    } finally {
      await database.drop();
    }
  });

  it('migration 0005 keeps every input of a graph recorded before it, by id or by path', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const raw = await openDatastore(database.uri, { migrate: false });
      await migrateToLatest(raw.db, dialect, '0004-attempt-uuids');
      const [a, b] = fakeChain(2, 'pre5');
      const missing = fakeDerivation('pre5-missing');
      const two = fakeDerivation('pre5-two', { inputs: [a!, missing], outputs: ['out', 'dev'] });
      const ids = new Map<string, number>();
      for (const drv of [a!, b!, two]) {
        const text = Buffer.from(drv.text);
        ids.set(
          drv.path,
          Number(
            (
              await sql<{
                id: number;
              }>`insert into derivations (path, name, system, fixed_output, text) values (${drv.path}, ${drv.name}, ${drv.system}, 0, ${text}) returning id`.execute(
                raw.db,
              )
            ).rows[0]!.id,
          ),
        );
        for (const input of drv.inputDerivations) {
          await sql`insert into derivation_inputs (derivation_id, input_path, output_name, input_id) values (${ids.get(drv.path)!}, ${input.path}, 'out', ${ids.get(input.path) ?? null})`.execute(
            raw.db,
          );
        }
      }
      expect((await raw.migrate())[0]).toBe('0005-input-edges');
      expect((await getDerivation(raw.db, b!.path))?.inputDerivations).toEqual([
        { path: a!.path, outputs: ['out'] },
      ]);
      expect((await getDerivation(raw.db, two.path))?.inputDerivations).toEqual(
        [
          { path: a!.path, outputs: ['out'] },
          { path: missing.path, outputs: ['out'] },
        ].sort((x, y) => (x.path < y.path ? -1 : 1)),
      );
      expect(await inputIds(raw.db, two.path)).toEqual(expect.arrayContaining([ids.get(a!.path)!, null]));
      // The input recorded late is found by its path and stored by id from then on.
      await recordDerivations(raw.db, [missing]);
      expect((await inputIds(raw.db, two.path)).sort()).toEqual(
        [ids.get(a!.path)!, await idOf(raw.db, missing.path)].sort(),
      );
      const [build] = await createBuilds(raw.db, [{ derivationPath: two.path }]);
      expect(await markDependentsBlocked(raw.db, missing.path)).toEqual([build!.id]);
      await raw.close();
    } finally {
      await database.drop();
    }
  });
});
