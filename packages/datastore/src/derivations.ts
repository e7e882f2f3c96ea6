// Derivation graph: record derivations (idempotent, in bulk), look them up,
// and tell which paths the coordinator does not hold yet.
import { sql } from 'kysely';
import { isPg } from './attempts-claim.js';
import { bulkInsert } from './bulk-insert.js';
import { InvalidInputError } from './errors.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { DerivationRecord } from './types.js';
import { inValues } from './value-list.js';

/**
 * Derivations recorded by each open transaction (path → id and system): a bulk
 * submission that records derivations and creates their builds in one
 * transaction finds the ids here instead of looking 20,000 paths up again.
 * Keyed by the transaction object, so a rolled-back transaction's ids go
 * with it.
 */
const recordedIn = new WeakMap<Db, Map<string, { id: number; system: string }>>();

/**
 * Records derivations with their outputs, inputs and sources, in chunks, in one
 * transaction (the caller's if `db` is one). Paths already recorded are left as
 * they are (a derivation's text is fixed by its path). Inputs may name
 * derivations not recorded (yet); order within `records` does not matter.
 * @returns the paths newly recorded.
 */
export async function recordDerivations(db: Db, records: readonly DerivationRecord[]): Promise<string[]> {
  const unique = new Map<string, DerivationRecord>();
  for (const r of records) {
    if (r.path === '' || r.system === '')
      throw new InvalidInputError(
        'invalid-input',
        `derivation ${JSON.stringify(r.path)} lacks a path or a system`,
      );
    unique.set(r.path, r);
  }
  if (unique.size === 0) return [];
  return inTransaction(db, async (trx) => {
    const rows: unknown[] = [];
    for (const r of unique.values())
      rows.push(
        r.path,
        r.name,
        r.system,
        r.fixedOutput ? 1 : 0,
        Buffer.from(r.text.buffer, r.text.byteOffset, r.text.byteLength),
      );
    // Paths already recorded are skipped by the insert itself and not returned.
    const inserted = await bulkInsert<{ id: number; path: string }>(
      trx,
      'derivations',
      ['path', 'name', 'system', 'fixed_output', 'text'],
      rows,
      {
        onConflictDoNothing: ['path'],
        returning: ['id', 'path'],
      },
    );
    const ids = new Map<string, number>();
    for (const row of inserted) ids.set(row.path, Number(row.id));
    const recorded: [DerivationRecord, number][] = [];
    for (const r of unique.values()) {
      const id = ids.get(r.path);
      if (id !== undefined) recorded.push([r, id]);
    }
    const outputs: unknown[] = [];
    for (const [r, id] of recorded)
      for (const o of r.outputs) outputs.push(id, o.name, o.path, o.hashAlgo, o.hash);
    await bulkInsert(
      trx,
      'derivation_outputs',
      ['derivation_id', 'name', 'path', 'hash_algo', 'hash'],
      outputs,
    );
    const earlier = await earlierInputIds(trx, recorded, ids);
    // An input recorded already is stored by id alone; by path until its derivation is recorded.
    const inputs: unknown[] = [];
    for (const [r, id] of recorded) {
      for (const i of r.inputDerivations) {
        const inputId = ids.get(i.path) ?? earlier.get(i.path);
        for (const name of i.outputs)
          inputs.push(id, inputId ?? null, inputId === undefined ? i.path : null, name);
      }
    }
    await bulkInsert(
      trx,
      'derivation_input_edges',
      ['derivation_id', 'input_id', 'input_path', 'output_name'],
      inputs,
    );
    const sources: unknown[] = [];
    for (const [r, id] of recorded) for (const path of r.inputSources) sources.push(id, path);
    await bulkInsert(trx, 'derivation_sources', ['derivation_id', 'path'], sources);
    const paths = recorded.map(([r]) => r.path);
    await resolveWaitingInputs(trx, paths);
    if (trx.isTransaction) {
      let memo = recordedIn.get(trx);
      if (memo === undefined) recordedIn.set(trx, (memo = new Map<string, { id: number; system: string }>()));
      for (const [r, id] of recorded) memo.set(r.path, { id, system: r.system });
    }
    return paths;
  });
}

/** Ids of the input derivations of `records` recorded before this call (those in `ids` were recorded by it). */
async function earlierInputIds(
  db: Db,
  records: readonly (readonly [DerivationRecord, number])[],
  ids: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const elsewhere = new Set<string>();
  for (const [r] of records) for (const i of r.inputDerivations) if (!ids.has(i.path)) elsewhere.add(i.path);
  const paths = [...elsewhere];
  const found = await derivationsInOrder(db, paths);
  const out = new Map<string, number>();
  for (let k = 0; k < paths.length; k++) if (found[k] !== null) out.set(paths[k]!, found[k]!.id);
  return out;
}

/**
 * The id and system of each of `paths` (null where not recorded), in the order
 * given: the paths themselves do not come back to match rows by.
 */
export async function derivationsInOrder(
  db: Db,
  paths: readonly string[],
): Promise<({ id: number; system: string } | null)[]> {
  if (paths.length === 0) return [];
  const memo = recordedIn.get(db);
  if (memo !== undefined) {
    const known = paths.map((p) => memo.get(p) ?? null);
    const unknown = paths.filter((_, k) => known[k] === null);
    if (unknown.length === 0) return known;
    const found = await lookUp(db, unknown);
    let u = 0;
    return known.map((k) => k ?? found[u++]!);
  }
  return lookUp(db, paths);
}

async function lookUp(db: Db, paths: readonly string[]): Promise<({ id: number; system: string } | null)[]> {
  type Row = { id: number | null; system: string | null };
  const query = isPg(db)
    ? sql<Row>`select d.id, d.system from unnest(${paths}::text[]) with ordinality as j(path, n) left join derivations d on d.path = j.path order by j.n`
    : sql<Row>`select d.id, d.system from json_each(${JSON.stringify(paths)}) j left join derivations d on d.path = j.value order by j.key`;
  const { rows } = await query.execute(db);
  return rows.map((row) => (row.id === null ? null : { id: Number(row.id), system: row.system! }));
}

/** Gives input rows recorded before their input derivation (by path) the id of `paths` now recorded, in place of the path. */
async function resolveWaitingInputs(db: Db, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const waiting = await db
    .selectFrom('derivation_input_edges')
    .select('derivation_id')
    .where('input_id', 'is', null)
    .limit(1)
    .executeTakeFirst();
  if (waiting === undefined) return;
  // Both assignments read the row as it was: the id is found by the old path.
  await db
    .updateTable('derivation_input_edges')
    .set((eb) => ({
      input_id: eb
        .selectFrom('derivations as d')
        .select('d.id')
        .whereRef('d.path', '=', 'derivation_input_edges.input_path'),
      input_path: null,
    }))
    .where('input_id', 'is', null)
    .where(inValues(db, 'input_path', paths, 'text'))
    .execute();
}

/** The subset of `paths` that are recorded derivations. */
export async function existingDerivationPaths(db: Db, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const rows = await db
    .selectFrom('derivations')
    .select('path')
    .where(inValues(db, 'path', [...new Set(paths)], 'text'))
    .execute();
  return rows.map((row) => row.path);
}

/** The subset of `paths` (derivation paths) that the datastore does not hold, in input order. */
export async function findMissingDerivations(db: Db, paths: readonly string[]): Promise<string[]> {
  const have = new Set(await existingDerivationPaths(db, paths));
  return [...new Set(paths)].filter((p) => !have.has(p));
}

/** A recorded derivation with its outputs, inputs and sources, or undefined. */
export async function getDerivation(db: Db, path: string): Promise<DerivationRecord | undefined> {
  const row = await db.selectFrom('derivations').selectAll().where('path', '=', path).executeTakeFirst();
  if (row === undefined) return undefined;
  const [outputs, inputs, sources] = await Promise.all([
    db
      .selectFrom('derivation_outputs')
      .selectAll()
      .where('derivation_id', '=', row.id)
      .orderBy('name')
      .execute(),
    db
      .selectFrom('derivation_inputs')
      .selectAll()
      .where('derivation_id', '=', row.id)
      .orderBy('input_path')
      .orderBy('output_name')
      .execute(),
    db
      .selectFrom('derivation_sources')
      .select('path')
      .where('derivation_id', '=', row.id)
      .orderBy('path')
      .execute(),
  ]);
  const byInput = new Map<string, string[]>();
  for (const i of inputs) byInput.set(i.input_path, [...(byInput.get(i.input_path) ?? []), i.output_name]);
  return {
    path: row.path,
    name: row.name,
    system: row.system,
    fixedOutput: row.fixed_output === 1,
    text: new Uint8Array(row.text),
    outputs: outputs.map((o) => ({ name: o.name, path: o.path, hashAlgo: o.hash_algo, hash: o.hash })),
    inputDerivations: [...byInput].map(([path, names]) => ({ path, outputs: names })),
    inputSources: sources.map((s) => s.path),
  };
}

/** Derivation paths whose outputs include `outputPath` (usually one). */
export async function derivationsForOutput(db: Db, outputPath: string): Promise<string[]> {
  const rows = await db
    .selectFrom('derivation_outputs as o')
    .innerJoin('derivations as d', 'd.id', 'o.derivation_id')
    .select('d.path')
    .where('o.path', '=', outputPath)
    .execute();
  return rows.map((r) => r.path);
}
