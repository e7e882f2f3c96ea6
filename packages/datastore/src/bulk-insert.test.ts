// Bulk inserts and long value lists on both dialects: awkward text, bytes and
// nulls round-trip, odd row counts cross SQLite's fixed statement sizes, and a
// list (one array or JSON parameter) longer than any parameter limit filters.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { bulkInsert } from './bulk-insert.js';
import { getDerivation, recordDerivations } from './derivations.js';
import { fakeChain, fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';
import { inValues } from './value-list.js';

const AWKWARD = [
  '',
  'NULL',
  'a"b',
  'back\\slash',
  'comma,brace{}',
  "it's",
  'tab\tnew\nline',
  'ünï\u{1F600}',
  ' spaced ',
];

describe.each(DIALECTS)('bulk insert on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('round-trips awkward text, bytes and nulls', async () => {
    const drv = {
      ...fakeDerivation('awkward'),
      text: Uint8Array.from([0x00, 0x5c, 0x22, 0x7b, 0xff, 0x2c]),
      inputSources: AWKWARD.map((s) => `/gnu/store/src-${s}`),
    };
    await recordDerivations(ctx.store.db, [drv]);
    const back = await getDerivation(ctx.store.db, drv.path);
    expect([...back!.text]).toEqual([...drv.text]);
    expect(back!.inputSources).toEqual([...drv.inputSources].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const id = (
      await ctx.store.db
        .selectFrom('derivations')
        .select('id')
        .where('path', '=', drv.path)
        .executeTakeFirstOrThrow()
    ).id;
    const rows = AWKWARD.map((s, i) => [`uuid-${i}`, id, s, i, 1000 + i, i % 2 === 0 ? null : i, 'queued']);
    const cols = [
      'uuid',
      'derivation_id',
      'system',
      'priority',
      'created_at',
      'defer_until',
      'state',
    ] as const;
    const ret = await bulkInsert<{ uuid: string; system: string }>(
      ctx.store.db,
      'builds',
      cols,
      rows.flat(),
      { returning: ['uuid', 'system'] },
    );
    expect(new Map(ret.map((r) => [r.uuid, r.system]))).toEqual(
      new Map(AWKWARD.map((s, i) => [`uuid-${i}`, s])),
    );
    const stored = await ctx.store.db
      .selectFrom('builds')
      .select(['uuid', 'system', 'defer_until'])
      .orderBy('priority')
      .execute();
    expect(
      stored.map((r) => [r.uuid, r.system, r.defer_until === null ? null : Number(r.defer_until)]),
    ).toEqual(rows.map((r) => [r[0], r[2], r[5]]));
  });

  it('inserts a row count that is no multiple of a statement size, once, with conflicts skipped', async () => {
    const chain = fakeChain(1_001, 'odd');
    expect((await recordDerivations(ctx.store.db, chain.slice(0, 500))).length).toBe(500);
    expect((await recordDerivations(ctx.store.db, chain)).length).toBe(501);
    const n = await sql<{ n: number }>`select count(*) as n from derivations where name like 'odd-%'`.execute(
      ctx.store.db,
    );
    expect(Number(n.rows[0]!.n)).toBe(1_001);
    const inputs = await sql<{
      n: number;
    }>`select count(*) as n from derivation_inputs i join derivations d on d.id = i.derivation_id where d.name like 'odd-%'`.execute(
      ctx.store.db,
    );
    expect(Number(inputs.rows[0]!.n)).toBe(1_000);
  });

  it('filters by a list longer than any bound-parameter limit', async () => {
    const drvs = fakeChain(3, 'few');
    await recordDerivations(ctx.store.db, drvs);
    const ids = (
      await ctx.store.db
        .selectFrom('derivations')
        .select('id')
        .where(
          'path',
          'in',
          drvs.map((d) => d.path),
        )
        .execute()
    ).map((r) => Number(r.id));
    const many = [...Array.from({ length: 70_000 }, (_, i) => -1 - i), ...ids];
    const found = await ctx.store.db
      .selectFrom('derivations')
      .select('path')
      .where(inValues(ctx.store.db, 'id', many, 'bigint'))
      .execute();
    expect(found.map((r) => r.path).sort()).toEqual(drvs.map((d) => d.path).sort());
    const paths = [...drvs.map((d) => d.path), ...AWKWARD]; // escaped inside PostgreSQL's text[]
    expect(
      (
        await ctx.store.db
          .selectFrom('derivations')
          .select('id')
          .where(inValues(ctx.store.db, 'path', paths, 'text'))
          .execute()
      ).length,
    ).toBe(3);
  });
});
