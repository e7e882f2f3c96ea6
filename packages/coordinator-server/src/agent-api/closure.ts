// The closure of a build's derivation as the datastore records it: every
// derivation to add to the agent's store (dependencies first) and the store
// paths to fetch: the input sources of every derivation in the closure (adding
// a .drv needs its references valid) and the used outputs of the direct inputs;
// or, for an agent building with BuildDerivation, the derivation alone.
import type { Db } from '@gbc/datastore';
import { chunk } from '@gbc/datastore';
import { encodeDerivationText } from '@gbc/protocol';
import { sql } from 'kysely';

/**
 * The closure of `derivationPath`: derivations in dependency order, inputs,
 * which of them are outputs of its own input derivations, and its own text
 * (base64). With `derivations: 'own'`, only the derivation itself and the
 * inputs of its own build (its sources and the input outputs it uses): what
 * BuildDerivation needs, found without walking the closure.
 */
export async function derivationClosure(
  db: Db,
  derivationPath: string,
  scope: 'all' | 'own' = 'all',
): Promise<{ derivations: string[]; inputs: string[]; inputOutputs: string[]; text: string }> {
  const own = await db
    .selectFrom('derivations')
    .select('text')
    .where('path', '=', derivationPath)
    .executeTakeFirstOrThrow();
  const direct = await db
    .selectFrom('derivation_inputs as i')
    .innerJoin('derivations as d', 'd.id', 'i.derivation_id')
    .innerJoin('derivation_outputs as o', (j) =>
      j.onRef('o.derivation_id', '=', 'i.input_id').onRef('o.name', '=', 'i.output_name'),
    )
    .select('o.path')
    .where('d.path', '=', derivationPath)
    .execute();
  const inputOutputs = [...new Set(direct.map((d) => d.path))].sort();
  const { derivations, sources } =
    scope === 'own'
      ? { derivations: [derivationPath], sources: await sourcesOf(db, [derivationPath]) }
      : await walkClosure(db, derivationPath);
  const inputs = [...new Set([...sources, ...inputOutputs])].sort();
  return { derivations, inputs, inputOutputs, text: encodeDerivationText(own.text) };
}

/** The input sources of the derivations at `paths`. */
async function sourcesOf(db: Db, paths: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('derivation_sources as s')
    .innerJoin('derivations as d', 'd.id', 's.derivation_id')
    .select('s.path')
    .where('d.path', 'in', paths)
    .execute();
  return rows.map((r) => r.path);
}

/** Every derivation of the closure of `derivationPath`, dependencies first, and all their input sources. */
async function walkClosure(
  db: Db,
  derivationPath: string,
): Promise<{ derivations: string[]; sources: string[] }> {
  const edges = new Map<string, string[]>();
  const sources: string[] = [];
  let frontier = [derivationPath];
  const seen = new Set(frontier);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const part of chunk(frontier, 1)) {
      // The edges table itself (not the derivation_inputs view): SQLite would build the whole view to left-join it.
      const rows = await db
        .selectFrom('derivations as d')
        .leftJoin('derivation_input_edges as i', 'i.derivation_id', 'd.id')
        .leftJoin('derivations as input', 'input.id', 'i.input_id')
        .select(['d.path', sql<string | null>`coalesce(i.input_path, input.path)`.as('input_path')])
        .where('d.path', 'in', part)
        .execute();
      for (const r of rows) {
        if (!edges.has(r.path)) edges.set(r.path, []);
        if (r.input_path === null) continue;
        edges.get(r.path)!.push(r.input_path);
        if (!seen.has(r.input_path)) {
          seen.add(r.input_path);
          next.push(r.input_path);
        }
      }
      sources.push(...(await sourcesOf(db, part)));
    }
    frontier = next;
  }
  const order: string[] = [];
  const done = new Set<string>();
  // Iterative post-order: dependencies before dependents, without deep recursion on long chains.
  const stack: [string, number][] = [[derivationPath, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const deps = [...new Set(edges.get(top[0]) ?? [])];
    if (top[1] < deps.length) {
      const dep = deps[top[1]++]!;
      if (!done.has(dep) && edges.has(dep)) stack.push([dep, 0]);
      continue;
    }
    stack.pop();
    if (!done.has(top[0])) {
      done.add(top[0]);
      order.push(top[0]);
    }
  }
  return { derivations: order, sources };
}
