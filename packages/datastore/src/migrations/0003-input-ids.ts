// Migration 0003 (frozen): input derivations by id. The index on
// derivation_inputs.input_path (random 60-byte keys, four rows a build in a
// wide graph) cost a third of a bulk insert; an integer index serves the same
// reverse walk (who depends on X) at a fraction of the price. Inputs recorded
// before their derivation (the usual order) get their id at once; the rare
// input recorded later is found through a partial index of unresolved rows.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** Adds derivation_inputs.input_id, fills it, and swaps the input_path index for it. */
export function inputIds(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('derivation_inputs').addColumn('input_id', 'bigint').execute();
      await sql`update derivation_inputs set input_id = (select d.id from derivations d where d.path = derivation_inputs.input_path)`.execute(
        db,
      );
      await db.schema
        .createIndex('derivation_inputs_input_id')
        .on('derivation_inputs')
        .column('input_id')
        .execute();
      await db.schema
        .createIndex('derivation_inputs_unresolved')
        .on('derivation_inputs')
        .column('input_path')
        .where(sql.ref('input_id'), 'is', null)
        .execute();
      await db.schema.dropIndex('derivation_inputs_input').execute();
    },
  };
}
